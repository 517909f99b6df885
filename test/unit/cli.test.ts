// The command line shared by every command: numeric options checked, usage errors short and exit 2,
// --json failures as a document on stdout, `duet <command>` the same code as scripts/<command>.ts.
// The processes below fail on their arguments or inventories, before any host is contacted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeRule, parseNumberOption } from '../../src/cli/command.ts';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import { errorDocument, wantsJson } from '../../src/cli/main.ts';
import { InventoryError, TransportError, UsageError } from '../../src/errors.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/duet.js or scripts/NAME.ts in a child process, with no secrets in the environment. */
function cli(entry: string, args: string[]): Promise<Result> {
  const argv = entry === 'duet' ? [join(repo, 'bin/duet.js'), ...args] : ['--import', 'tsx', join(repo, `scripts/${entry}.ts`), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: repo, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('numeric options', () => {
  test('accepts decimal numbers within the range', () => {
    assert.equal(parseNumberOption('parallel', '4', { integer: true, min: 1 }), 4);
    assert.equal(parseNumberOption('grace', '0.5', { min: 0 }), 0.5);
    assert.equal(parseNumberOption('max-lag', 0, { min: 0 }), 0);
  });

  test('refuses NaN, fractions for integers, out-of-range values, hex, repeats, with the flag named', () => {
    const refused = (flag: string, value: unknown, rule: Parameters<typeof parseNumberOption>[2], message: RegExp) =>
      assert.throws(() => parseNumberOption(flag, value, rule), (err: unknown) => err instanceof UsageError && err.exitCode === 2 && message.test(err.message));
    refused('parallel', 'abc', { integer: true, min: 1, max: 64 }, /^--parallel must be a whole number from 1 to 64, not "abc"$/);
    refused('parallel', '1.5', { integer: true, min: 1 }, /^--parallel must be a whole number of at least 1, not 1\.5$/);
    refused('parallel', '0', { integer: true, min: 1 }, /not 0$/);
    refused('timeout', '0x10', { integer: true, min: 1 }, /not "0x10"$/);
    refused('timeout', '1e3', { integer: true, min: 1 }, /not "1e3"$/);
    refused('grace', '', { min: 0 }, /not empty$/);
    refused('grace', '-1', { min: 0, max: 600 }, /^--grace must be a number from 0 to 600, not -1$/);
    refused('grace', ['1', '2'], { min: 0 }, /given 2 times$/);
  });

  test('the rule in words (it is also added to --help)', () => {
    assert.equal(describeRule({ above: 0 }), 'a number greater than 0');
    assert.equal(describeRule({ integer: true, max: 9 }), 'a whole number of at most 9');
    assert.equal(describeRule({}), 'a number');
  });
});

describe('--json failures', () => {
  test('--json is read from the raw arguments, up to --', () => {
    assert.equal(wantsJson(['inv.yml', '--json']), true);
    assert.equal(wantsJson(['--json=true']), true);
    assert.equal(wantsJson(['--json', '--no-json']), false);
    assert.equal(wantsJson(['--json=false']), false);
    assert.equal(wantsJson(['exec', 'db1', '--', 'x', '--json']), false);
    assert.equal(wantsJson(['inv.yml']), false);
  });

  test('the document: exit code, a stable kind, message, hint, host (null when absent), inventory issues', () => {
    assert.deepEqual(errorDocument(new TransportError('no SSH answer', { host: 'db1', hint: 'check routing' })), {
      error: { code: 3, kind: 'ssh', message: 'no SSH answer', hint: 'check routing', host: 'db1' },
    });
    const issue = { file: 'inv.yml', path: 'cluster', line: 1, column: 10, message: 'must be a cluster name' };
    const doc = errorDocument(new InventoryError([issue]));
    assert.equal(doc.error.code, 2);
    assert.equal(doc.error.kind, 'bad-input');
    assert.deepEqual(doc.error.issues, [issue]);
    assert.deepEqual(errorDocument(new Error('boom')).error, { code: 70, kind: 'bug', message: 'unexpected error (this is a bug in duet): boom', hint: null, host: null });
  });
});

describe('entry points (no host is contacted)', () => {
  test('a yargs usage error exits 2 with one short message, not the whole help', async () => {
    const r = await cli('swap', ['inventory/fixtures.yml', '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, 'duet: Unknown argument: yes\n  hint: swap --help shows the usage\n');
    assert.equal(r.stdout, '');
  });

  test('provision --parallel abc exits 2 before loading the inventory or asking anything', async () => {
    const r = await cli('provision', ['inventory/fixtures.yml', '--parallel', 'abc', '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^duet: --parallel must be a whole number from 1 to 64, not "abc"\n/);
  });

  test('duet verify --max-lag abc --json: the error document on stdout, exit 2', async () => {
    const r = await cli('duet', ['verify', 'inventory/fixtures.yml', '--max-lag', 'abc', '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(JSON.parse(r.stdout), {
      error: { code: 2, kind: 'bad-input', message: '--max-lag must be a number of at least 0, not "abc"', hint: 'duet verify --help shows the usage', host: null },
    });
  });

  test('a bad inventory with --json: every issue in the document, exit 2', async () => {
    const r = await cli('duet', ['status', 'inventory/example.yml', '--json']);
    assert.equal(r.code, 2, r.stderr);
    const doc = JSON.parse(r.stdout) as { error: { code: number; issues: Array<{ path: string; line: number }> } };
    assert.equal(doc.error.code, 2);
    assert.deepEqual(doc.error.issues.map((i) => i.path), ['mysql.replication.password', 'pairs[0].heartbeat.authkey', 'pairs[0].load_balancers.heartbeat.authkey']);
  });

  test('duet --help lists every command of the table; duet swap --help is swap\'s help', async () => {
    const [top, sub] = await Promise.all([cli('duet', ['--help']), cli('duet', ['swap', '--help'])]);
    assert.equal(top.code, 0, top.stderr);
    for (const command of [...COMMANDS.map((c) => c.name), 'completion']) assert.match(top.stdout, new RegExp(`^  duet ${command}\\b`, 'm'));
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stdout, /^duet swap <inventory> \[node\]\n/);
    assert.match(sub.stdout.replace(/\s+/g, ' '), /--timeout seconds to wait for the target to catch up, and for the floating IP to move \(a whole number from 1 to 86400\)/);
  });

  test('duet without a command, or an unknown one, exits 2', async () => {
    const [none, unknown] = await Promise.all([cli('duet', []), cli('duet', ['frobnicate'])]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^duet: give a command: provision, verify, status, swap, readonly, replication, render, fixtures, drill\n/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown argument: frobnicate/);
  });

  test('duet completion prints a completion script for duet', async () => {
    const r = await cli('duet', ['completion']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /###-begin-duet-completions-###/);
    assert.match(r.stdout, /duet --get-yargs-completions/);
  });
});

// The freeze's holder script (src/ops/swap-freeze.ts), run here with bash against a stand-in server
// client that logs what it is sent: the words and markers, thaw before arm, fence after it (also
// when the controller is lost or silent), and the order of a fence: read_only, kills, unlock.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { holderScript } from '../../src/ops/swap-freeze.ts';

const dir = mkdtempSync(join(tmpdir(), 'duet-holder-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// -N -B -e LIST: two client connections; --force: the kills; -N -B -n: the holder's session, which
// answers SELECT 'marker'; with the marker.
const client = join(dir, 'client');
writeFileSync(
  client,
  `#!/bin/bash
log=$FAKE_LOG
if [ "$3" = -e ]; then echo "list" >> "$log"; printf '11\\n12\\n'; exit 0; fi
if [ "$1" = --force ]; then while IFS= read -r l; do echo "kill: $l" >> "$log"; done; exit 0; fi
while IFS= read -r l; do echo "sql: $l" >> "$log"; case $l in "SELECT '"*) m=\${l#SELECT \\'}; echo "\${m%\\';}";; esac; done
`,
);
chmodSync(client, 0o755);

const script = (silenceSeconds = 30) =>
  holderScript({
    client,
    readOnlyOn: 'SET GLOBAL read_only = ON',
    readOnlyOff: 'SET GLOBAL read_only = OFF',
    tail: 'echo tail >> "$FAKE_LOG"',
    clientConnections: { sql: 'SELECT ID FROM information_schema.PROCESSLIST WHERE NOT (USER = ?)', params: ["o'brien"] },
    lockWaitSeconds: 2,
    silenceSeconds,
  });

/** Runs the holder, freezes, writes `words` one by one (each after the previous marker), then ends stdin unless `keepOpen`. */
async function hold(name: string, words: string[], opts: { keepOpen?: boolean; silenceSeconds?: number } = {}): Promise<{ out: string[]; log: string[] }> {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, '');
  const child = spawn('bash', ['-c', script(opts.silenceSeconds)], { env: { ...process.env, FAKE_LOG: log }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const seen = async (marker: string) => {
    while (!out.split('\n').includes(marker)) await new Promise((r) => setTimeout(r, 5));
  };
  await seen('ready');
  child.stdin.write('freeze\n');
  await seen('frozen');
  for (const word of words) {
    child.stdin.write(`${word}\n`);
    if (word === 'arm') await seen('armed');
  }
  if (!opts.keepOpen) child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  return { out: out.trim().split('\n'), log: readFileSync(log, 'utf8').trim().split('\n') };
}

describe('the freeze holder', () => {
  test('holds the lock, then thaws on thaw: read_only OFF, unlock, then its tail', async () => {
    const { out, log } = await hold('thaw', ['thaw']);
    assert.deepEqual(out, ['ready', 'frozen', 'thawed']);
    assert.deepEqual(log, ['sql: SET SESSION lock_wait_timeout = 2;', "sql: SELECT 'ready';", 'sql: FLUSH TABLES WITH READ LOCK;', "sql: SELECT 'frozen';", 'sql: SET GLOBAL read_only = OFF;', 'sql: UNLOCK TABLES;', "sql: SELECT 'thawed';", 'tail']);
  });

  test('arm sets read_only ON under the lock', async () => {
    const { log } = await hold('arm-thaw', ['arm', 'thaw']);
    assert.deepEqual(log.slice(4, 6), ['sql: SET GLOBAL read_only = ON;', "sql: SELECT 'armed';"]);
    assert.deepEqual(log.slice(-4), ['sql: SET GLOBAL read_only = OFF;', 'sql: UNLOCK TABLES;', "sql: SELECT 'thawed';", 'tail'], 'a thaw after arm: writable again, then unlocked');
  });

  test('fence: read_only ON and every listed connection killed before the lock is given up', async () => {
    const { out, log } = await hold('fence', ['arm', 'fence']);
    assert.deepEqual(out, ['ready', 'frozen', 'armed', 'fenced']);
    const at = (line: string) => log.lastIndexOf(line);
    assert.ok(at('sql: SET GLOBAL read_only = ON;') > at("sql: SELECT 'armed';"));
    assert.equal(log.at(-1), 'tail', 'the tail runs once the session ended');
    assert.ok(at('kill: KILL CONNECTION 11;') > 0 && at('kill: KILL CONNECTION 12;') > 0, log.join('\n'));
    assert.ok(at('sql: UNLOCK TABLES;') > at('kill: KILL CONNECTION 12;'), 'the kills come first');
    assert.ok(at('sql: UNLOCK TABLES;') > at('sql: SET GLOBAL read_only = ON;'));
  });

  test('a controller lost before arm: thaw', async () => {
    const { out, log } = await hold('lost-unarmed', []);
    assert.deepEqual(out, ['ready', 'frozen', 'thawed']);
    assert.ok(!log.includes('sql: SET GLOBAL read_only = ON;'));
    assert.equal(log.at(-1), 'tail');
  });

  test('a controller lost once armed: fence', async () => {
    const { out, log } = await hold('lost-armed', ['arm']);
    assert.deepEqual(out, ['ready', 'frozen', 'armed', 'fenced']);
    assert.ok(log.includes('sql: SET GLOBAL read_only = ON;') && log.includes('kill: KILL CONNECTION 11;'));
  });

  test('a controller silent past the limit once armed: fence', async () => {
    const { out } = await hold('silent-armed', ['arm'], { keepOpen: true, silenceSeconds: 1 });
    assert.deepEqual(out, ['ready', 'frozen', 'armed', 'fenced']);
  });

  test('the listing SQL reaches the client whole, its values quoted', () => {
    const line = script().split('\n').find((l) => l.startsWith('list='))!;
    const value = execFileSync('bash', ['-c', `${line}; printf %s "$list"`], { encoding: 'utf8' });
    assert.equal(value, "SELECT ID FROM information_schema.PROCESSLIST WHERE NOT (USER = 'o\\'brien')");
  });
});

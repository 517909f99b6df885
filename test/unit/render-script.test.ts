// scripts/render.ts end to end on the example inventory: files land under DIR/<node>/<path> with
// their modes, --check writes nothing, and a bad inventory exits 2 with the loader's message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const exampleInventory = join(repo, 'inventory/example.yml');
const workDir = mkdtempSync(join(tmpdir(), 'duet-render-script-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

function renderScript(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'scripts/render.ts'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, DUET_REPL_PASSWORD: 'repl-pw-0123456789', DUET_HA_KEY: 'ha-key-0123456789', DUET_LB_HA_KEY: 'lb-key-0123456789', ...env },
    timeout: 30_000,
  });
}

test('--out writes each node\'s files under DIR/<node>/<path on the host> with their modes', () => {
  const out = join(workDir, 'out');
  const { status, stdout, stderr } = renderScript([exampleInventory, '--out', out]);
  assert.equal(status, 0, stderr);
  assert.match(stdout, /^wrote 38 files for 4 nodes in 1 pair of cluster shop under /);
  assert.deepEqual(readdirSync(out).sort(), ['db-01', 'db-02', 'lb-01', 'lb-02']);
  const authkeys = join(out, 'db-02/etc/ha.d/authkeys');
  assert.equal(statSync(authkeys).mode & 0o777, 0o600);
  assert.match(readFileSync(authkeys, 'utf8'), /^1 sha1 ha-key-0123456789$/m);
  assert.equal(statSync(join(out, 'db-01/etc/network/if-pre-up.d/duet-iptables')).mode & 0o777, 0o755);
  assert.match(readFileSync(join(out, 'db-01/etc/mysql/mariadb.conf.d/60-duet.cnf'), 'utf8'), /^server_id = 1$/m);
  assert.match(readFileSync(join(out, 'lb-02/etc/haproxy/haproxy.cfg'), 'utf8'), /^ {4}server db-02 192\.0\.2\.12:3306 check$/m);
  assert.match(readFileSync(join(out, 'lb-02/etc/ha.d/authkeys'), 'utf8'), /^1 sha1 lb-key-0123456789$/m);
});

test('--check prints a one-line OK summary', () => {
  const { status, stdout, stderr } = renderScript([exampleInventory, '--check']);
  assert.equal(status, 0, stderr);
  assert.equal(stdout, `OK: ${exampleInventory} renders 38 files for 4 nodes in 1 pair of cluster shop\n`);
});

test('an inventory whose secret is missing exits 2 with the loader\'s message', () => {
  const { status, stderr } = renderScript([exampleInventory, '--check'], { DUET_HA_KEY: undefined });
  assert.equal(status, 2);
  assert.match(stderr, /^duet: .*example\.yml:\d+:\d+: pairs\[0\]\.heartbeat\.authkey: environment variable DUET_HA_KEY is not set/);
});

test('neither --out nor --check is a usage error', () => {
  const { status, stderr } = renderScript([exampleInventory]);
  assert.equal(status, 2);
  assert.match(stderr, /give --out DIR to write the files, or --check to validate only/);
});

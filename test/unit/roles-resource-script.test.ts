// The Heartbeat resource script (templates/duet-writer.hbs): valid sh for both flavors, and its
// decisions run against a stand-in `mariadb` client that answers from files (the real server is in
// test/e2e/operate.test.ts). It sources Heartbeat's shellfuncs, so it needs the heartbeat package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { renderInventory, WRITER_RESOURCE_PATH } from '../../src/render/desired.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

const dir = mkdtempSync(join(tmpdir(), 'duet-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function scriptFor(flavor: 'mariadb' | 'mysql', nodeName = 'db-01'): string {
  const inv = sampleInventory();
  inv.mysql.flavor = flavor;
  const file = renderInventory(inv).get(nodeName)?.find((f) => f.path === WRITER_RESOURCE_PATH);
  assert.ok(file, `no ${WRITER_RESOURCE_PATH} for ${nodeName}`);
  const path = join(dir, `${flavor}-${nodeName}.sh`);
  writeFileSync(path, file.content);
  return path;
}

describe('the resource script through sh -n', () => {
  for (const flavor of ['mariadb', 'mysql'] as const) {
    test(`${flavor}`, () => {
      const { status, stderr } = spawnSync('sh', ['-n', scriptFor(flavor)], { encoding: 'utf8' });
      assert.equal(status, 0, stderr);
    });
  }
});

// The stand-in client: logs each call's last argument (the SQL) and answers from files in STATE.
const CLIENT = `#!/bin/sh
for sql; do :; done
printf '%s\\n' "$sql" >> "$STATE/calls"
[ -e "$STATE/down" ] && { echo "Can't connect to local server" >&2; exit 1; }
case $sql in
  'SHOW SLAVE STATUS') cat "$STATE/replica" ;;
  'SELECT @@read_only') cat "$STATE/read_only" ;;
  'SET GLOBAL read_only = ON') echo 1 > "$STATE/read_only" ;;
  'SET GLOBAL read_only = OFF') echo 0 > "$STATE/read_only" ;;
  *MASTER_GTID_WAIT*) cat "$STATE/applied" ;;
  'SELECT ID FROM'*) cat "$STATE/clients" ;;
  'SELECT COUNT(*)'*) echo 0 ;;
esac
`;

const REPLICA = (applier: string) => `*************************** 1. row ***************************
                Slave_IO_State: Waiting for master to send event
                   Gtid_IO_Pos: 2-2-15,1-1-40
             Slave_SQL_Running: ${applier}
`;

describe('the resource script\'s decisions', { skip: existsSync('/etc/ha.d/shellfuncs') ? false : 'heartbeat is not installed' }, () => {
  const state = join(dir, 'state');
  const bin = join(dir, 'bin');
  const script = scriptFor('mariadb');

  beforeEach(() => {
    rmSync(state, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', state, bin]);
    writeFileSync(join(bin, 'mariadb'), CLIENT);
    chmodSync(join(bin, 'mariadb'), 0o755);
    writeFileSync(join(state, 'calls'), '');
    writeFileSync(join(state, 'read_only'), '1\n');
    writeFileSync(join(state, 'replica'), REPLICA('Yes'));
    writeFileSync(join(state, 'applied'), '1\n');
    writeFileSync(join(state, 'clients'), '7\n9\n');
  });

  function run(action: string): { status: number | null; stdout: string; stderr: string; calls: string[] } {
    const result = spawnSync('sh', [script, action], { encoding: 'utf8', env: { PATH: `${bin}:${process.env.PATH}`, STATE: state }, timeout: 20_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: readFileSync(join(state, 'calls'), 'utf8').trim().split('\n') };
  }

  test('status: running while writable, stopped while read-only or unreachable', () => {
    assert.equal(run('status').stdout, 'stopped\n');
    writeFileSync(join(state, 'read_only'), '0\n');
    assert.equal(run('status').stdout, 'running\n');
    writeFileSync(join(state, 'down'), '');
    assert.equal(run('status').stdout, 'stopped\n');
  });

  test('start waits for what was received, records the epoch, then turns read_only off', () => {
    const { status, calls } = run('start');
    assert.equal(status, 0);
    assert.ok(calls.includes("SELECT MASTER_GTID_WAIT('2-2-15,1-1-40', 60) = 0"), calls.join('\n'));
    const grant = calls.findIndex((c) => c.startsWith('SET @duet_epoch'));
    assert.ok(grant >= 0 && grant < calls.indexOf('SET GLOBAL read_only = OFF'), 'epoch recorded before the server is writable');
    assert.match(calls[grant]!, /VALUES \('db-01', '192\.0\.2\.11', 'writer', @duet_epoch\), \('db-02', '192\.0\.2\.12', 'reader', @duet_epoch\)/);
    assert.equal(readFileSync(join(state, 'read_only'), 'utf8'), '0\n');
  });

  test('start with a stopped applier and an unapplied relay log fails at once and stays read-only', () => {
    writeFileSync(join(state, 'replica'), REPLICA('No'));
    writeFileSync(join(state, 'applied'), '0\n');
    const { status, stderr, calls } = run('start');
    assert.equal(status, 1);
    assert.ok(calls.includes("SELECT MASTER_GTID_WAIT('2-2-15,1-1-40', 0) = 0"), 'no waiting for an applier that does not run');
    assert.match(stderr, /not becoming writable: the relay log is not applied/);
    assert.ok(!calls.includes('SET GLOBAL read_only = OFF'));
  });

  test('start on a server that is no replica does not wait', () => {
    writeFileSync(join(state, 'replica'), '');
    const { status, calls } = run('start');
    assert.equal(status, 0);
    assert.ok(!calls.some((c) => c.includes('MASTER_GTID_WAIT')));
  });

  test('stop: read_only on, then every listed client connection killed', () => {
    writeFileSync(join(state, 'read_only'), '0\n');
    const { status, calls } = run('stop');
    assert.equal(status, 0);
    assert.equal(calls[0], 'SET GLOBAL read_only = ON');
    assert.deepEqual(calls.filter((c) => c.startsWith('KILL')), ['KILL CONNECTION 7', 'KILL CONNECTION 9']);
  });

  test('stop succeeds on a server that does not answer (it cannot write), so Heartbeat does not reboot the node', () => {
    writeFileSync(join(state, 'down'), '');
    assert.equal(run('stop').status, 0);
  });
});

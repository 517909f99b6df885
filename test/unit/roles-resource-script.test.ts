// The Heartbeat resource script (templates/duet-writer.hbs): valid sh for both flavors, and its
// decisions run against a stand-in `mariadb` client that answers from files (the real server is in
// test/e2e/operate.test.ts). It sources Heartbeat's shellfuncs, so it needs the heartbeat package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { MONITOR_PATH, renderInventory, WRITER_RESOURCE_PATH } from '../../src/render/desired.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

const dir = mkdtempSync(join(tmpdir(), 'duet-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function scriptFor(flavor: 'mariadb' | 'mysql', nodeName = 'db-01', failoverHook?: string): string {
  const inv = sampleInventory();
  inv.mysql.flavor = flavor;
  if (failoverHook) inv.hooks = { postFailover: { run: failoverHook, timeoutSeconds: 5 } };
  const file = renderInventory(inv).get(nodeName)?.find((f) => f.path === WRITER_RESOURCE_PATH);
  assert.ok(file, `no ${WRITER_RESOURCE_PATH} for ${nodeName}`);
  const path = join(dir, `${flavor}-${nodeName}${failoverHook ? '-hook' : ''}.sh`);
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

// The stand-in client: logs each call's last argument (the SQL; "peer: SQL" for the peer's server,
// reached with -h) and answers from files in STATE. The peer answers only while STATE/peer exists.
const CLIENT = `#!/bin/sh
peer=
for sql; do [ "$sql" = -h ] && peer=yes; done
if [ -n "$peer" ]; then
  printf 'peer: %s\\n' "$sql" >> "$STATE/calls"
  [ -e "$STATE/peer" ] || { echo "Can't connect to server on the peer" >&2; exit 1; }
  case $sql in
    'SELECT @@gtid_binlog_pos') cat "$STATE/peer" ;;
    'SELECT @@read_only') [ -e "$STATE/peer-writable" ] && echo 0 || echo 1 ;;
  esac
  exit 0
fi
printf '%s\\n' "$sql" >> "$STATE/calls"
[ -e "$STATE/down" ] && { echo "Can't connect to local server" >&2; exit 1; }
case $sql in
  'SHOW SLAVE STATUS') cat "$STATE/replica" ;;
  'SELECT @@read_only') cat "$STATE/read_only" ;;
  'SET GLOBAL read_only = ON') echo 1 > "$STATE/read_only" ;;
  'SET GLOBAL read_only = OFF') echo 0 > "$STATE/read_only" ;;
  *MASTER_GTID_WAIT*) cat "$STATE/applied" ;;
  *'AND HOST LIKE'*) echo 31 ;;
  'SELECT ID FROM'*) cat "$STATE/clients" ;;
  'SELECT COUNT(*)'*) echo 0 ;;
esac
`;

// readPos: how far the I/O thread read (the applier ended its last transaction at 4920).
const REPLICA = (applier: string, io = 'Yes', readPos = 4920) => `*************************** 1. row ***************************
                Slave_IO_State: Waiting for master to send event
               Master_Log_File: mysql-bin.000002
           Read_Master_Log_Pos: ${readPos}
                   Gtid_IO_Pos: 2-2-15,1-1-40
         Relay_Master_Log_File: mysql-bin.000002
           Exec_Master_Log_Pos: 4920
              Slave_IO_Running: ${io}
             Slave_SQL_Running: ${applier}
`;

// The stand-in ping: the peer's host (192.0.2.12) answers while STATE/peer exists, any other
// address (the ping node) while STATE/ping does.
const PING = `#!/bin/sh
for address; do :; done
echo "ping $address" >> "$STATE/calls"
if [ "$address" = 192.0.2.12 ]; then [ -e "$STATE/peer" ]; else [ -e "$STATE/ping" ]; fi
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
    writeFileSync(join(bin, 'ping'), PING);
    chmodSync(join(bin, 'ping'), 0o755);
    writeFileSync(join(state, 'peer'), '1-1-41,2-2-15\n');
    writeFileSync(join(state, 'calls'), '');
    writeFileSync(join(state, 'read_only'), '1\n');
    writeFileSync(join(state, 'replica'), REPLICA('Yes'));
    writeFileSync(join(state, 'applied'), '1\n');
    writeFileSync(join(state, 'clients'), '7\n9\n');
  });

  function run(action: string): { status: number | null; stdout: string; stderr: string; calls: string[] } {
    const env = { PATH: `${bin}:${process.env.PATH}`, STATE: state, DUET_WRITER_SINCE: join(state, 'writer-since') };
    const result = spawnSync('sh', [script, action], { encoding: 'utf8', env, timeout: 20_000 });
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

  test('start fences a peer that answers first: read-only, its clients killed, its final position applied here', () => {
    const { status, calls } = run('start');
    assert.equal(status, 0);
    const fenced = calls.indexOf('peer: SET GLOBAL read_only = ON');
    assert.ok(fenced >= 0 && fenced < calls.findIndex((c) => c.includes('MASTER_GTID_WAIT')), calls.join('\n'));
    assert.ok(calls.includes("SELECT MASTER_GTID_WAIT('1-1-41,2-2-15', 60) = 0"), 'waits for the peer\'s binlog position');
    assert.ok(calls.indexOf('peer: SELECT @@gtid_binlog_pos') < calls.indexOf('SET GLOBAL read_only = OFF'));
    assert.ok(calls.indexOf('peer: SELECT 1') < fenced, 'the peer is asked whether it is there first');
    assert.match(readFileSync(join(state, 'writer-since'), 'utf8'), /^\d+\n$/);
  });


  test('start refuses the role from a peer that answers as a working writer (Heartbeat\'s view is out of date)', () => {
    writeFileSync(join(state, 'peer-writable'), '');
    const { status, stderr, calls } = run('start');
    assert.equal(status, 1);
    assert.match(stderr, /not taking the writer role: db-02's server answers and is writable/);
    assert.ok(!calls.includes('peer: SET GLOBAL read_only = ON'), 'a working writer is not fenced');
    assert.ok(!calls.includes('SET GLOBAL read_only = OFF'));
  });

  test('start takes the role from an unreachable peer only while the ping node answers', () => {
    rmSync(join(state, 'peer'));
    writeFileSync(join(state, 'ping'), '');
    const { status, calls } = run('start');
    assert.equal(status, 0);
    assert.ok(calls.includes('ping 192.0.2.1'));
    assert.ok(!calls.includes('peer: SET GLOBAL read_only = ON'), 'nothing to fence on a peer that is not there');
    assert.equal(readFileSync(join(state, 'read_only'), 'utf8'), '0\n');
    // Nobody is there to acknowledge: its replica connection is dropped before the server is writable.
    const listed = calls.findIndex((c) => c.includes("COMMAND IN ('Binlog Dump', 'Binlog Dump GTID') AND HOST LIKE '192.0.2.12:%'"));
    assert.ok(listed >= 0 && listed < calls.indexOf('KILL CONNECTION 31'), calls.join('\n'));
    assert.ok(calls.indexOf('KILL CONNECTION 31') < calls.indexOf('SET GLOBAL read_only = OFF'));
    // The epoch's write is the first commit: it must not wait out the semi-sync timeout for nobody.
    assert.ok(calls.indexOf('KILL CONNECTION 31') < calls.findIndex((c) => c.startsWith('SET @duet_epoch')), calls.join('\n'));
  });

  test('start closes the replica connection to an unreachable peer before it reads what arrived, then opens a new one', () => {
    rmSync(join(state, 'peer'));
    writeFileSync(join(state, 'ping'), '');
    const { status, calls } = run('start');
    assert.equal(status, 0);
    // Nothing the peer sent before it went away may arrive after this node is writable.
    const closed = calls.indexOf('STOP SLAVE IO_THREAD');
    const waited = calls.indexOf("SELECT MASTER_GTID_WAIT('2-2-15,1-1-40', 60) = 0");
    assert.ok(closed >= 0 && closed < waited, calls.join('\n'));
    assert.ok(calls.slice(closed).includes('SHOW SLAVE STATUS'), 'what arrived is read after the connection closed');
    const reopened = calls.indexOf('START SLAVE IO_THREAD');
    assert.ok(waited < reopened && reopened < calls.indexOf('SET GLOBAL read_only = OFF'), calls.join('\n'));
    assert.ok(!calls.includes('STOP SLAVE; START SLAVE'), 'nothing half-received: the applier keeps its relay log');
  });

  test('a transaction whose end never arrived is dropped with the relay log before clients write here', () => {
    rmSync(join(state, 'peer'));
    writeFileSync(join(state, 'ping'), '');
    writeFileSync(join(state, 'replica'), REPLICA('Yes', 'Yes', 5200));
    const { status, stderr, calls } = run('start');
    assert.equal(status, 0);
    const restarted = calls.indexOf('STOP SLAVE; START SLAVE');
    assert.ok(calls.indexOf("SELECT MASTER_GTID_WAIT('2-2-15,1-1-40', 60) = 0") < restarted && restarted < calls.indexOf('SET GLOBAL read_only = OFF'), calls.join('\n'));
    assert.match(stderr, /dropping the transaction db-02 never finished sending/);
  });

  test('an I/O thread already reconnecting (the monitor closed the connection) is left alone: no wait for a dead peer', () => {
    rmSync(join(state, 'peer'));
    writeFileSync(join(state, 'ping'), '');
    writeFileSync(join(state, 'replica'), REPLICA('Yes', 'Connecting'));
    const { status, calls } = run('start');
    assert.equal(status, 0);
    assert.ok(!calls.some((c) => /^(STOP|START) SLAVE/.test(c)), calls.join('\n'));
  });

  test('after a closed connection only what ran starts again: the I/O thread alone beside a stopped applier, nothing after an operator\'s stop', () => {
    rmSync(join(state, 'peer'));
    writeFileSync(join(state, 'ping'), '');
    writeFileSync(join(state, 'replica'), REPLICA('No', 'Yes', 5200));
    let { status, calls } = run('start');
    assert.equal(status, 0);
    assert.ok(calls.includes('START SLAVE IO_THREAD') && !calls.includes('STOP SLAVE; START SLAVE'), calls.join('\n'));
    writeFileSync(join(state, 'calls'), '');
    writeFileSync(join(state, 'read_only'), '1\n');
    writeFileSync(join(state, 'replica'), REPLICA('Yes', 'No', 5200));
    ({ status, calls } = run('start'));
    assert.equal(status, 0);
    assert.ok(!calls.some((c) => c.startsWith('START SLAVE') || c.startsWith('STOP SLAVE')), calls.join('\n'));
  });

  test('a peer that answers is fenced over its live connection, which stays open', () => {
    const { status, calls } = run('start');
    assert.equal(status, 0);
    assert.ok(!calls.some((c) => c.startsWith('STOP SLAVE')), calls.join('\n'));
  });

  test('start refuses the role when neither the peer nor the ping node answers (this node may be cut off)', () => {
    rmSync(join(state, 'peer'));
    const { status, stderr, calls } = run('start');
    assert.equal(status, 1);
    assert.match(stderr, /not taking the writer role: neither db-02's server nor the ping node 192\.0\.2\.1 answers/);
    assert.ok(!calls.includes('SET GLOBAL read_only = OFF'));
    assert.ok(!existsSync(join(state, 'writer-since')));
  });

  test('start with a stopped applier and an unapplied relay log fails at once and stays read-only', () => {
    writeFileSync(join(state, 'replica'), REPLICA('No'));
    writeFileSync(join(state, 'applied'), '0\n');
    const { status, stderr, calls } = run('start');
    assert.equal(status, 1);
    assert.ok(calls.includes("SELECT MASTER_GTID_WAIT('1-1-41,2-2-15', 0) = 0"), 'no waiting for an applier that does not run');
    assert.match(stderr, /not becoming writable: db-02's final position \(1-1-41,2-2-15\) is not applied here/);
    assert.ok(!calls.includes('SET GLOBAL read_only = OFF'));
  });

  test('start with a stopped applier, an unreachable peer and an unapplied relay log stays read-only', () => {
    rmSync(join(state, 'peer'));
    writeFileSync(join(state, 'ping'), '');
    writeFileSync(join(state, 'replica'), REPLICA('No'));
    writeFileSync(join(state, 'applied'), '0\n');
    const { status, stderr, calls } = run('start');
    assert.equal(status, 1);
    assert.ok(calls.includes("SELECT MASTER_GTID_WAIT('2-2-15,1-1-40', 0) = 0"));
    assert.match(stderr, /not becoming writable: the relay log is not applied/);
    assert.ok(!calls.includes('SET GLOBAL read_only = OFF'));
  });

  test('start runs the post_failover hook once the node has the role, with who and why', async () => {
    const hooked = scriptFor('mariadb', 'db-01', 'echo "$DUET_HOOK $DUET_PAIR $DUET_NEW_WRITER $DUET_OLD_WRITER $DUET_VIP" > "$STATE/hook"');
    const env = { PATH: `${bin}:${process.env.PATH}`, STATE: state, DUET_WRITER_SINCE: join(state, 'writer-since') };
    assert.equal(spawnSync('sh', [hooked, 'start'], { encoding: 'utf8', env, timeout: 20_000 }).status, 0);
    for (let i = 0; i < 50 && !existsSync(join(state, 'hook')); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(readFileSync(join(state, 'hook'), 'utf8'), 'post_failover main db-01 db-02 192.0.2.100\n');
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

describe('the monitor\'s decisions (facts in, action out)', { skip: existsSync('/etc/ha.d/shellfuncs') ? false : 'heartbeat is not installed' }, () => {
  const inv = sampleInventory(); // monitor_failures 3
  const file = renderInventory(inv).get('db-01')!.find((f) => f.path === MONITOR_PATH)!;
  const script = join(dir, 'duet-monitor');
  writeFileSync(script, file.content);
  const decide = (...facts: Array<string | number>) => spawnSync('sh', [script, 'decide', ...facts.map(String)], { encoding: 'utf8' }).stdout.trim();

  test('sh -n', () => assert.equal(spawnSync('sh', ['-n', script]).status, 0));

  // decide HEARTBEAT ISOLATED_PROBES ROLE SERVER_BAD_PROBES SERVER PEER_FIT RECENT
  const cases: Array<[string, Array<string | number>, string]> = [
    ['a healthy writer', ['alive', 0, 'writer', 0, 'writable', 'no', 'no'], 'none'],
    ['a healthy reader', ['alive', 0, 'reader', 0, 'read-only', 'no', 'no'], 'none'],
    ['Heartbeat died (whatever else holds)', ['dead', 0, 'writer', 0, 'writable', 'yes', 'no'], 'fence-and-rejoin'],
    ['Heartbeat died on a reader too', ['dead', 5, 'reader', 0, 'read-only', 'no', 'no'], 'fence-and-rejoin'],
    ['cut off for fewer probes than the limit', ['alive', 2, 'writer', 0, 'writable', 'no', 'no'], 'none'],
    ['cut off: a writer', ['alive', 3, 'writer', 0, 'writable', 'no', 'no'], 'isolate'],
    ['cut off: a reader', ['alive', 3, 'reader', 0, 'read-only', 'no', 'no'], 'isolate'],
    ['cut off wins over a failing server', ['alive', 3, 'writer', 3, 'down', 'yes', 'no'], 'isolate'],
    ['a failing writer under the limit', ['alive', 0, 'writer', 2, 'down', 'yes', 'no'], 'none'],
    ['a dead server, a fit peer: hand over', ['alive', 0, 'writer', 3, 'down', 'yes', 'no'], 'hand-over'],
    ['a restarted read-only server, a fit peer: hand over', ['alive', 0, 'writer', 3, 'read-only', 'yes', 'no'], 'hand-over'],
    ['within the flap window: restore the restarted server here', ['alive', 0, 'writer', 3, 'read-only', 'yes', 'yes'], 'restore'],
    ['a peer whose replication is broken: restore here', ['alive', 0, 'writer', 3, 'read-only', 'no', 'no'], 'restore'],
    ['nothing to restore and no fit peer: wait', ['alive', 0, 'writer', 3, 'down', 'no', 'no'], 'wait'],
    ['within the window and the server down: wait', ['alive', 0, 'writer', 5, 'down', 'yes', 'yes'], 'wait'],
    ['a writable reader (without the floating IP)', ['alive', 0, 'reader', 3, 'writable', 'no', 'no'], 'demote'],
  ];
  for (const [name, facts, action] of cases) test(`${name}: ${action}`, () => assert.equal(decide(...facts), action));

  // release PING_NODE_ANSWERS PEER_GONE_PROBES SERVER: drop the peer's replica connection (semi-sync)?
  const release = (...facts: Array<string | number>) => spawnSync('sh', [script, 'release', ...facts.map(String)], { encoding: 'utf8' }).stdout.trim();
  test('release: commits stop waiting for a peer whose host is gone, never while this node is cut off', () => {
    assert.equal(release('yes', 3, 'writable'), 'yes', 'a dead or cut-off reader must not hold every commit back');
    assert.equal(release('yes', 2, 'writable'), 'no', 'fewer probes than monitor_failures (3 here): one lost ping is no reason');
    assert.equal(release('no', 3, 'writable'), 'no', 'a cut-off writer\'s waiting commits are the tail its peer never got');
    assert.equal(release('yes', 0, 'writable'), 'no');
    assert.equal(release('yes', 3, 'down'), 'no');
  });

  const disconnect = (...facts: Array<string | number>) => spawnSync('sh', [script, 'disconnect', ...facts.map(String)], { encoding: 'utf8' }).stdout.trim();
  test('disconnect: a read-only node closes its connection to a peer whose host is gone, once, never while cut off', () => {
    assert.equal(disconnect('yes', 3, 'read-only'), 'yes', 'what the gone writer sent last must not arrive after a takeover');
    assert.equal(disconnect('yes', 4, 'read-only'), 'no', 'once per outage: the new connection is left to wait for the peer');
    assert.equal(disconnect('yes', 2, 'read-only'), 'no', 'one lost ping is no reason');
    assert.equal(disconnect('no', 3, 'read-only'), 'no', 'cut off: this node will not take the role');
    assert.equal(disconnect('yes', 3, 'writable'), 'no', 'a writer takes nothing from its peer');
  });
});

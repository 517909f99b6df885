// status from plain data: the writer comes first, the line format users liked, and a loud warning
// for every state that hurts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InstanceState, ReplicaStatus } from '../../src/mysql/model.ts';
import type { NodeLiveState } from '../../src/ops/pair-state.ts';
import { assessPair, formatNodeLine, formatPairStatus, lastMoves, type NodeExtras } from '../../src/ops/status.ts';
import { topologyView } from '../../src/ops/topology.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';
import { verifiedTls } from './helpers/tls.ts';

const pair = sampleInventory().pairs[0]!;
const [db1, db2] = pair.nodes;
const haresources = (writer: string) => `# Managed by duet\n${writer} duet-writer IPaddr::192.0.2.100/24/eth0\n`;

function replica(overrides: Partial<ReplicaStatus> = {}): ReplicaStatus {
  return {
    sourceHost: '192.0.2.12', sourcePort: 3306, sourceUser: 'repl', ioState: 'Waiting for master to send event', ioRunning: 'Yes', sqlRunning: 'Yes',
    lastIoErrno: 0, lastIoError: '', lastSqlErrno: 0, lastSqlError: '', secondsBehind: 0, usingGtid: 'slave_pos', gtidIoPos: '', sourceServerId: 2, tls: verifiedTls,
    ...overrides,
  };
}

function mysql(readOnly: boolean, replicaStatus: ReplicaStatus | undefined = replica()): InstanceState {
  return { version: '10.11.19-MariaDB', flavor: 'mariadb', serverId: 1, readOnly, gtid: { current: '', binlog: '' }, replica: replicaStatus };
}

function live(node: typeof db1, holdsVip: boolean, state: InstanceState | undefined, heartbeatRunning = true): NodeLiveState {
  return { node, holdsVip, heartbeatRunning, mysqlRunning: state !== undefined, mysql: state, ...(state ? {} : { mysqlError: 'connect ECONNREFUSED' }) };
}

/** Both nodes' topology tables say `writer` at `epoch`, and haresources names `recorded`. */
function extras(writer: string, epoch: number, recorded = writer, overrides: Record<string, Partial<NodeExtras>> = {}): Map<string, NodeExtras> {
  const view = topologyView(pair.nodes.map((n) => ({ node: n.name, address: n.address, role: n.name === writer ? 'writer' : 'reader', epoch })));
  return new Map(pair.nodes.map((n) => [n.name, { topology: view, haresources: haresources(recorded), ...overrides[n.name] }]));
}

describe('assessPair', () => {
  test('a healthy pair: the writer first, whatever the inventory order, and no warning', () => {
    const status = assessPair(pair, [live(db1, false, mysql(true)), live(db2, true, mysql(false))], extras('db-02', 3));
    assert.equal(status.writer, 'db-02');
    assert.equal(status.epoch, 3);
    assert.deepEqual(status.nodes.map((n) => n.node), ['db-02', 'db-01']);
    assert.deepEqual(status.warnings, []);
    assert.equal(
      formatPairStatus(status),
      [
        'pair main: writer db-02 (floating IP 192.0.2.100, epoch 3)',
        'NODE: db-02 has write IP, is writable, replication running over TLS, 0s delay, heartbeat running, epoch 3',
        'NODE: db-01 no write IP, is read-only, replication running over TLS, 0s delay, heartbeat running, epoch 3',
      ].join('\n'),
    );
  });

  test("a writer whose commits wait for no replica (semi-sync): said on its line and warned about; a waiting one too", () => {
    const alone = assessPair(pair, [live(db1, true, mysql(false)), live(db2, false, mysql(true))], extras('db-01', 1, 'db-01', { 'db-01': { semiSyncReplicas: 0 }, 'db-02': { semiSyncReplicas: 0 } }));
    assert.match(formatNodeLine(alone.nodes[0]!), /, commits ALONE, heartbeat running/);
    assert.equal(alone.nodes[1]!.semiSyncReplicas, undefined, 'a read-only node commits nothing');
    assert.deepEqual(alone.warnings, [
      'the writer db-01 commits without waiting for db-02 (no semi-sync replica connected): a crash of db-01 now can lose its last acknowledged writes; check replication on db-02',
    ]);
    const waiting = assessPair(pair, [live(db1, true, mysql(false)), live(db2, false, mysql(true))], extras('db-01', 1, 'db-01', { 'db-01': { semiSyncReplicas: 1 } }));
    assert.match(formatNodeLine(waiting.nodes[0]!), /, commits wait for the peer, heartbeat running/);
    assert.deepEqual(waiting.warnings, []);
  });

  test('both writable, and the floating IP on both', () => {
    const status = assessPair(pair, [live(db1, true, mysql(false)), live(db2, true, mysql(false))], extras('db-01', 1));
    assert.equal(status.writer, undefined);
    assert.match(status.warnings.join('\n'), /BOTH nodes are writable/);
    assert.match(status.warnings.join('\n'), /floating IP 192\.0\.2\.100 is on BOTH nodes/);
  });

  test('neither writable, and the floating IP on the read-only node', () => {
    const status = assessPair(pair, [live(db1, true, mysql(true)), live(db2, false, mysql(true))], extras('db-01', 1));
    assert.equal(status.nodes[0]?.node, 'db-01', 'the IP holder first when nobody writes');
    assert.match(status.warnings.join('\n'), /NEITHER node is writable/);
    assert.match(status.warnings.join('\n'), /floating IP 192\.0\.2\.100 is on the READ-ONLY node db-01/);
  });

  test('the floating IP on no node', () => {
    const status = assessPair(pair, [live(db1, false, mysql(false)), live(db2, false, mysql(true))], extras('db-01', 1));
    assert.match(status.warnings.join('\n'), /is on NO node/);
  });

  test('a writable node whose epoch is older than its peer\'s is stale', () => {
    const older = topologyView([
      { node: 'db-01', address: db1.address, role: 'writer', epoch: 4 },
      { node: 'db-02', address: db2.address, role: 'reader', epoch: 4 },
    ]);
    const status = assessPair(pair, [live(db1, false, mysql(false)), live(db2, true, mysql(false))], extras('db-02', 5, 'db-02', { 'db-01': { topology: older } }));
    const stale = status.nodes.find((n) => n.node === 'db-01');
    assert.equal(stale?.stale, true);
    assert.equal(status.nodes.find((n) => n.node === 'db-02')?.stale, false);
    assert.match(formatNodeLine(stale!), /, epoch 4, STALE$/);
    assert.match(status.warnings.join('\n'), /db-01 is STALE: writable, but the pair granted the write role at epoch 5 \(its own table: epoch 4, writer db-01\)/);
  });

  test('replication stopped with its error, lag shown while running, and Heartbeat down', () => {
    const broken = replica({ sqlRunning: 'No', lastSqlErrno: 1062, lastSqlError: "Duplicate entry '7'", secondsBehind: null });
    const status = assessPair(pair, [live(db1, true, mysql(false, replica({ secondsBehind: 12 }))), live(db2, false, mysql(true, broken), false)], extras('db-01', 1));
    assert.equal(formatNodeLine(status.nodes[0]!), 'NODE: db-01 has write IP, is writable, replication running over TLS, 12s delay, heartbeat running, epoch 1');
    assert.equal(
      formatNodeLine(status.nodes[1]!),
      "NODE: db-02 no write IP, is read-only, replication stopped, last error: SQL error 1062: Duplicate entry '7', heartbeat NOT running, epoch 1",
    );
    assert.match(status.warnings.join('\n'), /replication on db-02 is stopped: SQL error 1062/);
    assert.match(status.warnings.join('\n'), /Heartbeat is not running on db-02/);
  });

  test('an unreachable server or host is reported, not fatal', () => {
    const status = assessPair(pair, [live(db1, true, mysql(false)), live(db2, false, undefined)], extras('db-01', 1, 'db-01', { 'db-02': { unreachable: 'connect ETIMEDOUT', topology: undefined } }));
    assert.equal(formatNodeLine(status.nodes[1]!), 'NODE: db-02 UNREACHABLE (connect ETIMEDOUT)');
    assert.match(status.warnings.join('\n'), /cannot reach db-02 over SSH: connect ETIMEDOUT/);
    assert.doesNotMatch(status.warnings.join('\n'), /NEITHER|Heartbeat is not running on db-02/);
  });

  test('haresources naming another node than the writer (a cold start would move the role)', () => {
    const status = assessPair(pair, [live(db1, false, mysql(true)), live(db2, true, mysql(false))], extras('db-02', 2, 'db-01'));
    assert.match(status.warnings.join('\n'), /haresources names db-01, not the writer db-02: if Heartbeat restarts on both nodes, db-01 becomes the writer/);
  });

  test('haresources differing between the nodes', () => {
    const status = assessPair(pair, [live(db1, false, mysql(true)), live(db2, true, mysql(false))], extras('db-02', 2, 'db-02', { 'db-01': { haresources: haresources('db-01') } }));
    assert.match(status.warnings.join('\n'), /haresources names different writers on the two nodes \(db-02: db-02, db-01: db-01\)/);
  });
});

test('lastMoves: the ROLE lines of both Heartbeat logs, oldest first, the last three', () => {
  const line = (stamp: string, text: string) => `${stamp}  duet-writer(default)[1964]:    info: duet-writer (db2): ROLE: ${text}`;
  assert.deepEqual(
    lastMoves([
      line('2026/11/29_22:46:19', 'db2 is the writer: db1 answered: fenced'),
      'Nov 29 22:46:20 db2 heartbeat: [684]: info: something else',
      line('2026/11/29_22:45:47', 'the server on db1 restarted read-only'),
      line('2026/11/29_22:47:31', 'db1 is cut off'),
      line('2026/11/29_22:44:00', 'an old move'),
    ]),
    ['2026-11-29 22:45:47 the server on db1 restarted read-only', '2026-11-29 22:46:19 db2 is the writer: db1 answered: fenced', '2026-11-29 22:47:31 db1 is cut off'],
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicationSettings } from '../../src/mysql/dao.ts';
import type { InstanceState, ReplicaStatus } from '../../src/mysql/model.ts';
import type { NodeLiveState } from '../../src/ops/pair-state.ts';
import {
  canaryFinding,
  checkAccounts,
  checkConfig,
  checkConsistency,
  checkDrift,
  checkGtidHistories,
  checkReplication,
  checkRoles,
  checkVipRoute,
  comparedSchemas,
  positionForPeer,
  type Finding,
} from '../../src/ops/verify-checks.ts';
import { planFile } from '../../src/plan/plan.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';
import { verifiedTls } from './helpers/tls.ts';

const inv = sampleInventory();
const pair = inv.pairs[0]!;
const [db1, db2] = pair.nodes;

// db-02's replica status as MariaDB 10.11 reports it, replicating from db-01 (192.0.2.11).
const replicating: ReplicaStatus = {
  sourceHost: '192.0.2.11',
  sourcePort: 3306,
  sourceUser: 'repl',
  ioState: 'Waiting for master to send event',
  ioRunning: 'Yes',
  sqlRunning: 'Yes',
  lastIoErrno: 0,
  lastIoError: '',
  lastSqlErrno: 0,
  lastSqlError: '',
  secondsBehind: 0,
  usingGtid: 'slave_pos',
  gtidIoPos: '1-1-5',
  sourceServerId: 1,
  tls: verifiedTls,
};

function state(replica: ReplicaStatus | undefined, overrides: Partial<InstanceState> = {}): InstanceState {
  return { version: '10.11.19-MariaDB-0+deb12u1-log', flavor: 'mariadb', serverId: 2, readOnly: true, gtid: { current: '', binlog: '' }, replica, ...overrides };
}

function replication(replica: ReplicaStatus | undefined): Finding[] {
  return checkReplication(inv, pair, { node: db2, state: state(replica) }, 30);
}

function only(findings: Finding[]): Finding {
  assert.equal(findings.length, 1, JSON.stringify(findings, null, 2));
  return findings[0]!;
}

const connectError = (message: string) => `error connecting to master 'repl@192.0.2.11:3306' - retry-time: 10  maximum-retries: 100000  message: ${message}`;

test('a replica running from its peer passes, with its lag as a figure', () => {
  const f = only(replication({ ...replicating, secondsBehind: 3 }));
  assert.equal(f.status, 'ok');
  assert.equal(f.host, 'db-02');
  assert.match(f.message, /replicates from db-01 \(192\.0\.2\.11\): I\/O and SQL threads running, 3 s behind/);
  assert.deepEqual(f.figures, { secondsBehind: 3 });
});

test('replication: not a replica, the wrong source, too far behind, no GTID', () => {
  const none = only(replication(undefined));
  assert.equal(none.status, 'fail');
  assert.match(none.message, /not a replica/);
  const wrong = only(replication({ ...replicating, sourceHost: '192.0.2.99' }));
  assert.equal(wrong.status, 'fail');
  assert.match(wrong.message, /replicates from 192\.0\.2\.99:3306, not from its peer db-01 \(192\.0\.2\.11:3306\)/);
  const behind = only(replication({ ...replicating, secondsBehind: 31 }));
  assert.equal(behind.status, 'fail');
  assert.deepEqual(behind.figures, { secondsBehind: 31 });
  assert.equal(only(replication({ ...replicating, usingGtid: 'no' })).status, 'warn');
  const unreachable = only(checkReplication(inv, pair, { node: db2, state: undefined, mysqlError: 'connect ECONNREFUSED' }, 30));
  assert.match(unreachable.message, /cannot read the server's state: connect ECONNREFUSED/);
});

test('I/O thread diagnoses name the classic causes', () => {
  const io = (lastIoErrno: number, lastIoError: string, ioRunning: ReplicaStatus['ioRunning'] = 'No') => only(replication({ ...replicating, ioRunning, lastIoErrno, lastIoError }));

  const sameId = io(1593, 'Fatal error: The slave I/O thread stops because master and slave have equal MariaDB server ids; these ids must be different for replication to work (or the --replicate-same-server-id option must be used on slave but this does not always make sense; please check the manual before using it).');
  assert.match(sameId.message, /same server_id/);
  assert.match(sameId.hint ?? '', /db-02 2 and db-01 1.*START SLAVE IO_THREAD on db-02/);

  const host = io(1130, connectError("Host 'db-02' is not allowed to connect to this MariaDB server"), 'Connecting');
  assert.match(host.message, /db-01 does not let db-02 log in: no account matches its host/);
  assert.match(host.hint ?? '', /'repl'@'192\.0\.2\.12' \(the node's address, not a host name\)/);

  const auth = io(1045, connectError("Access denied for user 'repl'@'db-02' (using password: YES)"), 'Connecting');
  assert.match(auth.message, /db-01 refuses the replication login/);
  assert.match(auth.hint ?? '', /password .* is not the inventory's/);

  const diverged = io(1236, "Got fatal error 1236 from master when reading data from binary log: 'Error: connecting slave requested to start from GTID 2-2-9, which is not in the master's binlog'");
  assert.match(diverged.message, /cannot send the transactions db-02 asks for/);
  assert.match(diverged.hint ?? '', /GTID positions have diverged/);

  const dropped = io(2003, connectError(`Can't connect to server on '192.0.2.11' (110 "Connection timed out")`), 'Connecting');
  assert.match(dropped.message, /still connecting to 192\.0\.2\.11:3306: connection timed out: packets are dropped, most likely by a firewall/);
  assert.match(dropped.hint ?? '', /firewall accepts 192\.0\.2\.12/);
  assert.match(io(2003, connectError(`Can't connect to server on '192.0.2.11' (111 "Connection refused")`), 'Connecting').message, /connection refused: nothing listens there/);
  assert.match(io(2003, connectError(`Can't connect to server on '192.0.2.11' (113 "No route to host")`), 'Connecting').message, /no route to the host: a wrong address\?/);

  const stopped = io(0, '');
  assert.match(stopped.message, /I\/O thread stopped without an error/);
  assert.equal(stopped.hint, 'START SLAVE IO_THREAD on db-02');
});

test('SQL thread diagnoses: stopped by hand, data conflicts, GTID order', () => {
  const sql = (lastSqlErrno: number, lastSqlError: string) => only(replication({ ...replicating, sqlRunning: 'No', lastSqlErrno, lastSqlError }));
  assert.equal(sql(0, '').hint, 'START SLAVE SQL_THREAD on db-02');
  const duplicate = sql(1062, "Could not execute Write_rows_v1 event on table shop.items; Duplicate entry '1' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY");
  assert.match(duplicate.message, /the data on db-02 differ from db-01's \(error 1062/);
  assert.match(duplicate.hint ?? '', /do not skip the event blindly/);
  assert.match(sql(1950, 'An attempt was made to binlog GTID 2-2-7 which would create an out-of-order sequence number').message, /GTID out of order/);
  assert.match(sql(1146, "Table 'shop.gone' doesn't exist").hint ?? '', /fix what the error names on db-02/);
  // MySQL spells the statement differently.
  const mysqlInv = { ...inv, mysql: { ...inv.mysql, flavor: 'mysql' as const } };
  const mysqlStopped = checkReplication(mysqlInv, pair, { node: db2, state: state({ ...replicating, sqlRunning: 'No' }) }, 30);
  assert.equal(only(mysqlStopped).hint, 'START REPLICA SQL_THREAD on db-02');
});

test('positionForPeer leaves out the domain the peer writes itself (MariaDB only)', () => {
  assert.equal(positionForPeer('mariadb', '1-1-40,2-2-17', 2), '1-1-40');
  assert.equal(positionForPeer('mariadb', '2-2-17', 2), '');
  assert.equal(positionForPeer('mariadb', '', 2), '');
  assert.equal(positionForPeer('mysql', '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', undefined), '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5');
});

test('GTID histories: ahead of the owner in its own domain is errant, behind is lag', () => {
  const facts = (binlog1: string, binlog2: string) =>
    checkGtidHistories(pair, [
      { node: db1, binlog: binlog1, gtidDomainId: 1 },
      { node: db2, binlog: binlog2, gtidDomainId: 2 },
    ]);
  assert.deepEqual(facts('1-1-10,2-2-4', '1-1-8,2-2-4'), []);
  // db-02 wrote into db-01's domain (a borrowed gtid_domain_id): seq 11 and 12 were never db-01's.
  const errant = only(facts('1-1-10,2-2-4', '2-2-4,1-2-12'));
  assert.equal(errant.host, 'db-02');
  assert.match(errant.message, /db-02's binlog reaches seq 12 in db-01's GTID domain 1, db-01's own binlog only 10/);
  assert.deepEqual(errant.figures, { errantTransactions: 2 });
  // A writer that wrote between the two reads: its own position read last is ahead again, no finding.
  const racing = checkGtidHistories(pair, [
    { node: db1, binlog: '1-1-10,2-2-4', gtidDomainId: 1 },
    { node: db2, binlog: '1-1-11,2-2-4', ownBinlogLater: '2-2-4', gtidDomainId: 2 },
  ]);
  assert.equal(only(racing).host, 'db-02', 'db-01 read before db-02 received its seq 11: still errant only without a later read');
  const reread = checkGtidHistories(pair, [
    { node: db1, binlog: '1-1-10,2-2-4', ownBinlogLater: '1-1-12,2-2-4', gtidDomainId: 1 },
    { node: db2, binlog: '1-1-11,2-2-4', ownBinlogLater: '1-1-11,2-2-4', gtidDomainId: 2 },
  ]);
  assert.deepEqual(reread, []);
});

function settings(overrides: Partial<ReplicationSettings> = {}): ReplicationSettings {
  return {
    serverId: 1,
    logBin: true,
    logReplicaUpdates: true,
    binlogFormat: 'ROW',
    autoIncrementIncrement: 10,
    autoIncrementOffset: 1,
    gtidDomainId: 1,
    tailSafety: { gtidStrictMode: true, semiSyncSource: true, semiSyncReplica: true, semiSyncWaitPoint: 'AFTER_SYNC' },
    binlogFilters: { doDb: ['shop', 'billing', 'duet'], ignoreDb: ['mysql', 'test'] },
    ...overrides,
  };
}

const goodPair = (): [ReplicationSettings, ReplicationSettings] => [settings(), settings({ serverId: 2, autoIncrementOffset: 2, gtidDomainId: 2 })];

function config(a: ReplicationSettings, b: ReplicationSettings): Finding[] {
  return checkConfig(inv, pair, [
    { node: db1, settings: a },
    { node: db2, settings: b },
  ]);
}

test('config: a pair set up as the inventory says passes in one line', () => {
  const [a, b] = goodPair();
  const f = only(config(a, b));
  assert.equal(f.status, 'ok');
  assert.match(f.message, /server_id 1\/2, .*ROW, auto_increment 10 with offsets 1\/2, GTID domains 1\/2, semi-sync AFTER_SYNC, strict GTID order, binlog filters do \[shop,billing,duet\] ignore \[mysql,test\] on both/);
});

test('config: a node running without what cuts an unacknowledged tail (a server started before provision wrote it)', () => {
  const [a, b] = goodPair();
  const found = config(a, { ...b, tailSafety: { gtidStrictMode: false, semiSyncSource: true, semiSyncReplica: true, semiSyncWaitPoint: 'AFTER_COMMIT' } });
  assert.deepEqual(found.map((f) => [f.host, f.status]), [['db-02', 'fail']]);
  assert.match(found[0]!.message, /^gtid_strict_mode is OFF, rpl_semi_sync_master_wait_point is AFTER_COMMIT: /);
  assert.match(found[0]!.hint ?? '', /run provision/);
});

test('config: a server_id changed at runtime is named on the node and on the pair', () => {
  const [a, b] = goodPair();
  const found = config(a, { ...b, serverId: 1 });
  assert.deepEqual(
    found.map((f) => [f.host, f.message]),
    [
      ['db-02', 'runs with server_id 1, the inventory says 2'],
      [undefined, 'both nodes run server_id 1'],
    ],
  );
  assert.match(found[0]!.hint ?? '', /SET GLOBAL server_id = 2 on db-02/);
});

test('config: binlog off, no log_slave_updates, STATEMENT, colliding ids, same domain, other filters', () => {
  const [a, b] = goodPair();
  const messages = config({ ...a, logBin: false, binlogFormat: 'STATEMENT' }, { ...b, logReplicaUpdates: false, autoIncrementOffset: 11, gtidDomainId: 1, binlogFilters: { doDb: ['shop'], ignoreDb: [] } }).map((f) => `${f.host ?? 'pair'}: ${f.message}`);
  assert.deepEqual(messages, [
    'db-01: the binary log is off (log_bin)',
    'db-01: binlog_format is STATEMENT, not ROW',
    'db-02: log_slave_updates is off',
    'db-02: auto_increment_increment/offset are 10/11, the inventory says 10/2',
    'pair: both nodes hand out the same auto-increment ids (offset 1 and 11, increment 10)',
    'pair: both nodes write GTID domain 1',
    'pair: the binlog filters differ: db-01 do [shop,billing,duet] ignore [mysql,test], db-02 do [shop] ignore []',
  ]);
});

function live(node: typeof db1, opts: { readOnly: boolean; holdsVip: boolean; heartbeat?: boolean }): NodeLiveState {
  return { node, holdsVip: opts.holdsVip, heartbeatRunning: opts.heartbeat ?? true, mysqlRunning: true, mysql: state(replicating, { readOnly: opts.readOnly }) };
}

test('roles: one writer holding the floating IP, Heartbeat on both', () => {
  const f = only(checkRoles(pair, [live(db1, { readOnly: false, holdsVip: true }), live(db2, { readOnly: true, holdsVip: false })]));
  assert.equal(f.status, 'ok');
  assert.equal(f.message, 'db-01 is the only writable node and holds 192.0.2.100; Heartbeat runs on both');
});

test('roles: a writer whose commits wait for no replica (semi-sync) is a warning beside the ok', () => {
  const nodes: [NodeLiveState, NodeLiveState] = [live(db1, { readOnly: false, holdsVip: true }), live(db2, { readOnly: true, holdsVip: false })];
  const alone = checkRoles(pair, nodes, 0);
  assert.deepEqual(alone.map((f) => f.status), ['ok', 'warn']);
  assert.equal(alone[1]!.host, 'db-01');
  assert.match(alone[1]!.message, /^the writer commits alone: no semi-sync replica is connected, so a crash of db-01 now can lose its last acknowledged writes$/);
  assert.match(alone[1]!.hint ?? '', /START SLAVE IO_THREAD on db-02/);
  assert.deepEqual(checkRoles(pair, nodes, 1).map((f) => f.status), ['ok']);
  assert.deepEqual(checkRoles(pair, nodes, undefined).map((f) => f.status), ['ok'], 'MySQL: duet sets no semi-sync up');
});

test('roles: both writable, none writable, the floating IP misplaced, Heartbeat down', () => {
  const both = only(checkRoles(pair, [live(db1, { readOnly: false, holdsVip: true }), live(db2, { readOnly: false, holdsVip: false })]));
  assert.equal(both.message, 'both nodes are writable (read_only OFF on both)');
  assert.match(both.hint ?? '', /SET GLOBAL read_only = ON on db-02 \(it does not hold 192\.0\.2\.100\)/);
  assert.match(only(checkRoles(pair, [live(db1, { readOnly: true, holdsVip: true }), live(db2, { readOnly: true, holdsVip: false })])).hint ?? '', /SET GLOBAL read_only = OFF on db-01/);
  assert.equal(only(checkRoles(pair, [live(db1, { readOnly: false, holdsVip: false }), live(db2, { readOnly: true, holdsVip: true })])).message, 'the floating IP 192.0.2.100 is on db-02, but the writable node is db-01');
  assert.match(only(checkRoles(pair, [live(db1, { readOnly: false, holdsVip: true }), live(db2, { readOnly: true, holdsVip: true })])).message, /on both nodes \(split brain\)/);
  assert.match(only(checkRoles(pair, [live(db1, { readOnly: false, holdsVip: false }), live(db2, { readOnly: true, holdsVip: false })])).message, /is on no node/);
  const down = only(checkRoles(pair, [live(db1, { readOnly: false, holdsVip: true }), live(db2, { readOnly: true, holdsVip: false, heartbeat: false })]));
  assert.deepEqual([down.host, down.message], ['db-02', 'Heartbeat is not running']);
});

test('the floating IP route: the server holding the pending login must be writable', () => {
  const greeting = { kind: 'greeting' as const, serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1-log', connectionId: 13 };
  assert.equal(only(checkVipRoute(pair, 'db-02', greeting, ['db-01'], ['db-01'])).message, 'from db-02, 192.0.2.100:3306 reaches db-01, a writable node');
  assert.equal(only(checkVipRoute(pair, 'db-02', greeting, ['db-02'], ['db-01'])).message, '192.0.2.100:3306 reaches db-02, which is read-only');
  // Both writable is the roles finding's to report; the route itself is fine.
  assert.equal(only(checkVipRoute(pair, 'db-02', greeting, ['db-01'], ['db-01', 'db-02'])).status, 'ok');
  assert.equal(only(checkVipRoute(pair, 'db-02', greeting, ['db-01'], undefined)).message, 'from db-02, 192.0.2.100:3306 reaches db-01');
  assert.equal(only(checkVipRoute(pair, 'db-02', greeting, ['db-01', 'db-02'], ['db-01'])).status, 'warn');
  assert.equal(only(checkVipRoute(pair, 'db-02', { kind: 'no answer', reason: 'no TCP answer within 2000 ms (packets dropped?)' }, [], ['db-01'])).status, 'fail');
  assert.equal(only(checkVipRoute(pair, 'db-02', { kind: 'error', code: 1130, message: "Host 'db-02' is not allowed to connect to this MariaDB server" }, [], ['db-01'])).status, 'warn');
});

test('canary findings carry the round trip, and say why a direction was not tried', () => {
  const arrived = canaryFinding(pair, db1, db2, { kind: 'arrived', ms: 7 });
  assert.deepEqual([arrived.status, arrived.host, arrived.message, arrived.figures], ['ok', 'db-01', 'db-01 -> db-02: a row written on db-01 arrived on db-02 in 7 ms', { roundTripMs: 7 }]);
  assert.equal(canaryFinding(pair, db2, db1, { kind: 'timeout', ms: 5000 }).status, 'fail');
  const skipped = canaryFinding(pair, db1, db2, { kind: 'skipped', reason: 'replication into db-02 is not running' });
  assert.equal(skipped.status, 'fail');
  assert.match(skipped.message, /not attempted: replication into db-02 is not running/);
  assert.match(canaryFinding(pair, db1, db2, { kind: 'error', message: "Table 'duet.canary' doesn't exist" }).hint ?? '', /run provision/);
});

test('compared schemas: the replicated ones without duet\'s and the system schemas', () => {
  assert.deepEqual(comparedSchemas(inv, ['shop', 'billing', 'other', 'duet'], 'duet'), ['billing', 'shop']);
  const all = { ...inv, mysql: { ...inv.mysql, databases: [] } };
  assert.deepEqual(comparedSchemas(all, ['mysql', 'sys', 'information_schema', 'performance_schema', 'test', 'duet', 'shop', 'crm'], 'duet'), ['crm', 'shop']);
});

test('consistency: equal, different on a quiet pair (fail), different while writing (warn), missing', () => {
  const sums = (entries: Array<[string, string | null]>) => new Map(entries);
  const a = sums([['shop.items', '2576327092'], ['shop.notes', '11']]);
  assert.equal(only(checkConsistency(pair, { checksums: [a, sums([['shop.items', '2576327092'], ['shop.notes', '11']])], quiet: true }, 1)).status, 'ok');
  const differs = only(checkConsistency(pair, { checksums: [a, sums([['shop.items', '99'], ['shop.notes', '11']])], quiet: true }, 1));
  assert.deepEqual([differs.status, differs.message, differs.figures], ['fail', 'the data differ between db-01 and db-02: shop.items', { tables: 2, differing: 1, attempts: 1 }]);
  assert.equal(only(checkConsistency(pair, { checksums: [a, sums([['shop.items', '99'], ['shop.notes', '11']])], quiet: false }, 3)).status, 'warn');
  assert.match(only(checkConsistency(pair, { checksums: [a, sums([['shop.items', '2576327092'], ['shop.notes', null]])], quiet: true }, 1)).message, /shop\.notes \(missing on db-02\)/);
});

test('drift names each file that differs and why', () => {
  const file = { path: '/etc/ha.d/ha.cf', content: 'keepalive 2\n', mode: 0o644, owner: 'root', group: 'root', service: 'heartbeat' as const, secret: false };
  const changed = planFile(file, { path: file.path, exists: true, mode: 0o600, owner: 'root', group: 'root', content: 'keepalive 2\n# tuned\n' }, []);
  const f = only(checkDrift(pair, db1, [changed], 6));
  assert.equal(f.message, '1 managed file(s) differ from the inventory: /etc/ha.d/ha.cf (content differs; mode 0600 -> 0644)');
  assert.match(f.hint ?? '', /provision --dry-run --limit db-01/);
  assert.equal(only(checkDrift(pair, db1, [], 6)).message, 'all 6 managed files are as the inventory renders them');
});

test('accounts: a wildcard host warns and names the accounts; none is ok', () => {
  const ok = only(checkAccounts(pair, db1, []));
  assert.deepEqual(ok, { check: 'accounts', pair: 'main', host: 'db-01', status: 'ok', message: 'no account allows logins from a wildcard host', figures: { wildcardAccounts: 0 } });
  const warn = only(checkAccounts(pair, db1, [{ user: 'app', host: '%' }, { user: 'report', host: '192.0.2.%' }, { user: 'old', host: '' }]));
  assert.equal(warn.status, 'warn');
  assert.equal(warn.message, "3 account(s) allow logins from a wildcard host: 'app'@'%', 'report'@'192.0.2.%', 'old'@''");
  assert.equal(warn.hint, "grant each to the addresses that need it (e.g. RENAME USER 'app'@'%' TO 'app'@'ADDRESS' on db-01), or drop it if unused");
  assert.deepEqual(warn.figures, { wildcardAccounts: 3 });
  const many = Array.from({ length: 12 }, (_, i) => ({ user: `u${i}`, host: '%' }));
  assert.match(only(checkAccounts(pair, db1, many)).message, /^12 account\(s\) .*'u9'@'%' and 2 more$/);
});

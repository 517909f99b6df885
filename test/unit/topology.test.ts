// The topology table's SQL and views, the SQL a freeze uses, and the writer haresources records.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Secret } from '../../src/inventory/secret.ts';
import {
  clientConnectionIds,
  duetAccounts,
  grantWriterRole,
  killConnection,
  literalSql,
  lockAccount,
  lockedAccounts,
  selectTopology,
  writerRoleScriptSql,
} from '../../src/mysql/dialect.ts';
import { DUET_TABLES } from '../../src/mysql/duet-schema.ts';
import { topologyNames, topologyView } from '../../src/ops/topology.ts';
import { desiredFiles, HARESOURCES_PATH, recordedWriter } from '../../src/render/desired.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

const inv = sampleInventory();
const pair = inv.pairs[0]!;
const [db1, db2] = pair.nodes;

describe('topology SQL', () => {
  test('the table is one of duet\'s, keyed by node', () => {
    const ddl = DUET_TABLES.find((t) => t.includes('duet.topology'));
    assert.match(ddl ?? '', /^CREATE TABLE IF NOT EXISTS duet\.topology \(node VARCHAR\(64\) NOT NULL PRIMARY KEY, address .*role ENUM\('writer', 'reader'\).*epoch BIGINT UNSIGNED NOT NULL/);
    assert.equal(selectTopology, 'SELECT node, address, role, epoch FROM duet.topology ORDER BY node');
  });

  test('granting the write role rewrites both rows at one epoch above the highest known', () => {
    const [setEpoch, upsert] = grantWriterRole({ name: 'db-02', address: '192.0.2.12' }, { name: 'db-01', address: '192.0.2.11' });
    assert.equal(setEpoch?.sql, 'SET @duet_epoch = (SELECT COALESCE(MAX(epoch), 0) + 1 FROM duet.topology)');
    assert.match(upsert?.sql ?? '', /^INSERT INTO duet\.topology \(node, address, role, epoch\) VALUES \(\?, \?, 'writer', @duet_epoch\), \(\?, \?, 'reader', @duet_epoch\) ON DUPLICATE KEY UPDATE/);
    assert.deepEqual(upsert?.params, ['db-02', '192.0.2.12', 'db-01', '192.0.2.11']);
  });
});

describe('freeze SQL', () => {
  test('client connections spare this session, replication and system threads, and duet\'s own logins', () => {
    const statement = clientConnectionIds(duetAccounts('admin'));
    assert.match(statement.sql, /ID <> CONNECTION_ID\(\) AND COMMAND NOT IN \('Binlog Dump', 'Binlog Dump GTID', 'Slave_IO', 'Slave_SQL', 'Slave_worker', 'Daemon'\)/);
    assert.match(statement.sql, /USER NOT IN \('system user', 'event_scheduler'\) AND NOT \(USER = \? AND HOST = \?\) AND NOT \(USER = \? AND HOST = \?\)$/);
    assert.deepEqual(statement.params, ['root', 'localhost', 'admin', 'localhost']);
    assert.deepEqual(duetAccounts('root'), [{ user: 'root', host: 'localhost' }]);
  });

  test('kill, account locks, locked accounts per flavor', () => {
    assert.equal(literalSql(killConnection(42)), 'KILL CONNECTION 42');
    assert.equal(literalSql(lockAccount({ user: 'app', host: '192.0.2.%' }, true)), "ALTER USER 'app'@'192.0.2.%' ACCOUNT LOCK");
    assert.equal(literalSql(lockAccount({ user: 'app', host: '%' }, false)), "ALTER USER 'app'@'%' ACCOUNT UNLOCK");
    assert.match(lockedAccounts('mariadb'), /mysql\.global_priv WHERE JSON_VALUE\(Priv, '\$\.account_locked'\) IN \('1', 'true'\)/);
    assert.match(lockedAccounts('mysql'), /mysql\.user WHERE account_locked = 'Y'/);
  });

  test('literalSql inlines values with the driver\'s escaping and refuses secrets', () => {
    assert.equal(literalSql({ sql: 'SELECT ?, ?', params: ["it's", 3] }), "SELECT 'it\\'s', 3");
    assert.throws(() => literalSql({ sql: 'SELECT ?', params: [new Secret('x', 'test')] }), /secret parameter/);
  });

  test('the resource script SQL per flavor', () => {
    assert.equal(writerRoleScriptSql('mariadb').readOnlyOn, 'SET GLOBAL read_only = ON');
    assert.equal(writerRoleScriptSql('mysql').readOnlyOn, 'SET GLOBAL super_read_only = ON');
    assert.equal(writerRoleScriptSql('mariadb').waitApplied, "SELECT MASTER_GTID_WAIT('%s', %s) = 0");
    assert.equal(writerRoleScriptSql('mysql').receivedColumn, 'Retrieved_Gtid_Set');
  });
});

describe('topology views', () => {
  const rows = (writer: string, epoch: number) =>
    pair.nodes.map((n) => ({ node: n.name, address: n.address, role: n.name === writer ? ('writer' as const) : ('reader' as const), epoch }));

  test('the writer is the one writer row at the highest epoch', () => {
    assert.deepEqual(topologyView(rows('db-02', 7)).writer, 'db-02');
    assert.equal(topologyView(rows('db-02', 7)).epoch, 7);
    assert.deepEqual(topologyView([]), { writer: undefined, epoch: 0, rows: [] });
  });

  test('topologyNames checks the writer and every node\'s address', () => {
    assert.equal(topologyNames(topologyView(rows('db-01', 2)), pair, 'db-01'), true);
    assert.equal(topologyNames(topologyView(rows('db-01', 2)), pair, 'db-02'), false);
    const moved = rows('db-01', 2).map((r) => (r.node === 'db-02' ? { ...r, address: '192.0.2.99' } : r));
    assert.equal(topologyNames(topologyView(moved), pair, 'db-01'), false);
    assert.equal(topologyNames(topologyView(rows('db-01', 2).slice(0, 1)), pair, 'db-01'), false);
  });
});

describe('the writer recorded in haresources', () => {
  test('haresources names the preferred node by default and the given writer otherwise', () => {
    const file = (writer?: string) => desiredFiles(inv, pair, db1, writer === undefined ? {} : { writer }).find((f) => f.path === HARESOURCES_PATH)!.content;
    assert.match(file(), /^db-01 duet-writer IPaddr::192\.0\.2\.100\/24\/eth0$/m);
    assert.match(file('db-02'), /^db-02 duet-writer IPaddr::192\.0\.2\.100\/24\/eth0$/m);
    assert.throws(() => file('db-03'), /the writer db-03 is not a node of pair main/);
  });

  test('recordedWriter reads the first resource line, and only names nodes of the pair', () => {
    assert.equal(recordedWriter(pair, desiredFiles(inv, pair, db2, { writer: 'db-02' }).find((f) => f.path === HARESOURCES_PATH)!.content), 'db-02');
    assert.equal(recordedWriter(pair, '# comment\n\n  db-01 IPaddr::192.0.2.100/24/eth0\n'), 'db-01');
    assert.equal(recordedWriter(pair, 'db-03 duet-writer IPaddr::192.0.2.100\n'), undefined);
    assert.equal(recordedWriter(pair, undefined), undefined);
  });
});

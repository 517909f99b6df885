import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostStateError } from '../../src/errors.ts';
import { Secret } from '../../src/inventory/secret.ts';
import { dialectFor, parseVersion, reloadTlsStatement, storedPasswordMatches } from '../../src/mysql/dialect.ts';

const password = new Secret('s3cret', 'test');
const source = { host: '10.0.0.2', port: 3306, user: 'repl', password, useGtid: true };
const account = { user: 'repl', host: '10.0.0.2' };

const mariadb = dialectFor('10.11.19-MariaDB-0+deb12u1-log');
const mysql80 = dialectFor('8.0.36');
const mysql84 = dialectFor('8.4.2-log');

test('parseVersion reads the leading x.y.z', () => {
  assert.deepEqual(parseVersion('10.11.19-MariaDB-0+deb12u1'), { major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB-0+deb12u1' });
  assert.equal(parseVersion('5.5.5-10.6.18-MariaDB-log').major, 10);
  assert.equal(parseVersion('5.5.5').major, 5);
  assert.throws(() => parseVersion('MariaDB'), HostStateError);
});

test('dialectFor picks the flavor from the version string and refuses old servers', () => {
  assert.equal(mariadb.flavor, 'mariadb');
  assert.equal(mysql80.flavor, 'mysql');
  assert.equal(dialectFor('5.5.5-10.6.18-MariaDB').flavor, 'mariadb');
  assert.throws(() => dialectFor('8.0.22'), /MySQL 8\.0\.22 is too old/);
  assert.throws(() => dialectFor('5.7.44-log'), HostStateError);
  assert.throws(() => dialectFor('10.4.30-MariaDB'), /MariaDB 10\.4\.30-MariaDB is too old/);
});

test('MariaDB CHANGE MASTER uses slave_pos GTID and keeps every value a parameter', () => {
  assert.deepEqual(mariadb.changeSource(source), {
    sql:
      'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = ?, ' +
      'MASTER_SSL = 0, MASTER_SSL_CA = ?, MASTER_SSL_CERT = ?, MASTER_SSL_KEY = ?, MASTER_SSL_VERIFY_SERVER_CERT = 0',
    params: ['10.0.0.2', 3306, 'repl', password, 10, '', '', ''],
  });
  assert.match(mariadb.changeSource({ ...source, useGtid: false, connectRetrySeconds: 3 }).sql, /MASTER_USE_GTID = no, MASTER_CONNECT_RETRY = \?, /);
  assert.equal(mariadb.changeSource({ ...source, connectRetrySeconds: 3 }).params[4], 3);
  assert.equal(mariadb.gtidMode, 'slave_pos');
});

test('CHANGE MASTER over TLS: on, the source certificate verified, the files as parameters', () => {
  const tls = { ca: '/etc/mysql/duet-ca.pem', cert: '/etc/mysql/duet-cert.pem', key: '/etc/mysql/duet-key.pem' };
  const maria = mariadb.changeSource({ ...source, tls });
  assert.match(maria.sql, /MASTER_SSL = 1, MASTER_SSL_CA = \?, MASTER_SSL_CERT = \?, MASTER_SSL_KEY = \?, MASTER_SSL_VERIFY_SERVER_CERT = 1$/);
  assert.deepEqual(maria.params.slice(-3), [tls.ca, tls.cert, tls.key]);
  const my = mysql80.changeSource({ ...source, tls });
  assert.match(my.sql, /SOURCE_SSL = 1, SOURCE_SSL_CA = \?, SOURCE_SSL_CERT = \?, SOURCE_SSL_KEY = \?, SOURCE_SSL_VERIFY_SERVER_CERT = 1$/);
  assert.deepEqual(my.params.slice(-3), [tls.ca, tls.cert, tls.key]);
  assert.deepEqual(mariadb.requireX509(account), { sql: 'ALTER USER ?@? REQUIRE X509', params: [account.user, account.host] });
  assert.equal(reloadTlsStatement('mariadb'), 'FLUSH SSL');
  assert.equal(reloadTlsStatement('mysql'), 'ALTER INSTANCE RELOAD TLS');
});

test('MySQL 8 CHANGE REPLICATION SOURCE uses auto-position and fetches the RSA key for caching_sha2', () => {
  assert.deepEqual(mysql80.changeSource(source), {
    sql:
      'CHANGE REPLICATION SOURCE TO SOURCE_HOST = ?, SOURCE_PORT = ?, SOURCE_USER = ?, SOURCE_PASSWORD = ?, ' +
      'SOURCE_AUTO_POSITION = 1, SOURCE_CONNECT_RETRY = ?, GET_SOURCE_PUBLIC_KEY = 1, ' +
      'SOURCE_SSL = 0, SOURCE_SSL_CA = ?, SOURCE_SSL_CERT = ?, SOURCE_SSL_KEY = ?, SOURCE_SSL_VERIFY_SERVER_CERT = 0',
    params: ['10.0.0.2', 3306, 'repl', password, 10, '', '', ''],
  });
  assert.match(mysql80.changeSource({ ...source, useGtid: false }).sql, /SOURCE_AUTO_POSITION = 0/);
  assert.equal(mysql80.gtidMode, 'auto_position');
});

test('the password never appears in SQL text', () => {
  for (const d of [mariadb, mysql80]) {
    for (const s of [d.changeSource(source), d.createUser(account, password), d.setPassword(account, password)]) {
      assert.ok(!s.sql.includes('s3cret'));
      assert.ok(s.params.includes(password));
    }
  }
});

test('replica control and status statements per flavor', () => {
  assert.deepEqual(
    [mariadb.startReplica, mariadb.stopReplica, mariadb.showReplicaStatus, mariadb.showBinaryLogStatus],
    ['START SLAVE', 'STOP SLAVE', 'SHOW SLAVE STATUS', 'SHOW MASTER STATUS'],
  );
  assert.deepEqual(
    [mysql80.startReplica, mysql80.stopReplica, mysql80.showReplicaStatus, mysql80.showBinaryLogStatus],
    ['START REPLICA', 'STOP REPLICA', 'SHOW REPLICA STATUS', 'SHOW MASTER STATUS'],
  );
  // SHOW MASTER STATUS was removed in 8.4; SHOW BINARY LOG STATUS exists since 8.2.
  assert.equal(mysql84.showBinaryLogStatus, 'SHOW BINARY LOG STATUS');
  assert.equal(dialectFor('8.2.0').showBinaryLogStatus, 'SHOW BINARY LOG STATUS');
});

test('GTID positions and waits per flavor, normalized to reached = 1', () => {
  assert.match(mariadb.instanceVariables, /@@gtid_current_pos AS gtid_current, @@gtid_binlog_pos AS gtid_binlog$/);
  assert.match(mysql80.instanceVariables, /@@gtid_executed AS gtid_current, @@gtid_executed AS gtid_binlog$/);
  for (const d of [mariadb, mysql80]) assert.match(d.instanceVariables, /^SELECT @@version AS version, @@server_id AS server_id, @@read_only AS read_only, /);
  assert.deepEqual(mariadb.waitForGtid('1-1-5,2-2-9', 30), { sql: 'SELECT MASTER_GTID_WAIT(?, ?) = 0 AS reached', params: ['1-1-5,2-2-9', 30] });
  assert.deepEqual(mysql80.waitForGtid('uuid:1-5', 30), { sql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) = 0 AS reached', params: ['uuid:1-5', 30] });
});

test('read-only: MariaDB read_only with READ_ONLY ADMIN as the only bypass from 10.11; MySQL super_read_only', () => {
  assert.equal(mariadb.setReadOnly(true), 'SET GLOBAL read_only = ON');
  assert.equal(mariadb.setReadOnly(false), 'SET GLOBAL read_only = OFF');
  assert.match(mariadb.readOnlyBypassGrantees ?? '', /PRIVILEGE_TYPE IN \('READ_ONLY ADMIN'\)$/);
  assert.match(dialectFor('10.6.18-MariaDB').readOnlyBypassGrantees ?? '', /IN \('READ_ONLY ADMIN', 'SUPER'\)$/);
  assert.equal(mysql80.setReadOnly(true), 'SET GLOBAL super_read_only = ON');
  assert.equal(mysql80.setReadOnly(false), 'SET GLOBAL read_only = OFF');
  assert.equal(mysql80.readOnlyBypassGrantees, undefined);
});

test('replication account statements: parameters for user, host and password; binlog off around them', () => {
  assert.deepEqual(mariadb.createUser(account, password), { sql: 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', params: ['repl', '10.0.0.2', password] });
  assert.deepEqual(mariadb.setPassword(account, password), { sql: 'ALTER USER ?@? IDENTIFIED BY ?', params: ['repl', '10.0.0.2', password] });
  assert.deepEqual(mysql80.grantReplication(account), { sql: 'GRANT REPLICATION SLAVE ON *.* TO ?@?', params: ['repl', '10.0.0.2'] });
  assert.deepEqual(mysql80.findAccount(account).params, ['repl', '10.0.0.2']);
  assert.equal(mariadb.binlogOff, 'SET SESSION sql_log_bin = 0');
  assert.equal(mysql80.binlogOn, 'SET SESSION sql_log_bin = 1');
});

// MySQL's and MariaDB's PASSWORD('password').
const stored = '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19';

test('storedPasswordMatches: compares a mysql_native_password hash with the password, without a login', () => {
  assert.equal(storedPasswordMatches('mysql_native_password', stored, new Secret('password', 'test')), true);
  assert.equal(storedPasswordMatches('mysql_native_password', stored, new Secret('rotated', 'test')), false);
});

test('storedPasswordMatches: cannot tell for another plugin or a credential it does not recognise (a login test decides)', () => {
  assert.equal(storedPasswordMatches('caching_sha2_password', '$A$005$salt', new Secret('password', 'test')), undefined);
  assert.equal(storedPasswordMatches('mysql_native_password', '', new Secret('password', 'test')), undefined);
  assert.equal(storedPasswordMatches('unix_socket', '', new Secret('password', 'test')), undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DUET_TABLES } from '../../src/mysql/duet-schema.ts';
import { dialectFor } from '../../src/mysql/dialect.ts';

test('the replication settings query reads each flavor\'s own variable names', () => {
  const mariadb = dialectFor('10.11.19-MariaDB-0+deb12u1-log').replicationSettings;
  assert.match(mariadb, /@@log_slave_updates AS log_replica_updates/);
  assert.match(mariadb, /@@gtid_domain_id AS gtid_domain_id, /);
  assert.match(mariadb, /@@gtid_strict_mode AS gtid_strict_mode, @@rpl_semi_sync_master_enabled AS semi_sync_source, @@rpl_semi_sync_slave_enabled AS semi_sync_replica, @@rpl_semi_sync_master_wait_point AS semi_sync_wait_point$/);
  assert.match(dialectFor('8.0.25').replicationSettings, /@@log_slave_updates AS log_replica_updates/);
  assert.match(dialectFor('8.0.26').replicationSettings, /@@log_replica_updates AS log_replica_updates/);
  assert.match(dialectFor('8.4.2-log').replicationSettings, /NULL AS gtid_domain_id$/);
  for (const sql of [mariadb, dialectFor('8.4.2').replicationSettings]) {
    for (const column of ['server_id', 'log_bin', 'binlog_format', 'auto_increment_increment', 'auto_increment_offset']) assert.match(sql, new RegExp(` AS ${column}\\b`));
  }
});

test('the canary table is keyed by the writing node, so the two nodes never write one row', () => {
  const ddl = DUET_TABLES.find((t) => t.includes('duet.canary'));
  assert.ok(ddl);
  assert.match(ddl, /PRIMARY KEY \(writer, token\)/);
});

test('wildcard accounts: %, _ and the empty host, without LIKE escapes; never roles or locked MySQL roles', () => {
  const mariadb = dialectFor('10.11.19-MariaDB-0+deb12u1-log').wildcardAccounts;
  const mysql = dialectFor('8.4.2').wildcardAccounts;
  for (const sql of [mariadb, mysql]) {
    assert.match(sql, /^SELECT User AS user, Host AS host FROM mysql\.user WHERE /);
    assert.match(sql, /\(Host = '' OR LOCATE\('%', Host\) > 0 OR LOCATE\('_', Host\) > 0\)/);
    assert.doesNotMatch(sql, /LIKE|\\/);
  }
  assert.match(mariadb, /is_role = 'N'/);
  assert.match(mysql, /account_locked = 'N'/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostStateError } from '../../src/errors.ts';
import { parseInstanceState, parseReplicaStatus, usesTls } from '../../src/mysql/model.ts';

// Rows exactly as mysql2 returned them from 10.11.19-MariaDB-0+deb12u1 (SHOW SLAVE STATUS), captured
// on a local two-server setup: replicating, wrong password, duplicate-key SQL error, stopped.

const MARIADB_RUNNING = {
  Slave_IO_State: 'Waiting for master to send event',
  Master_Host: '127.0.0.1',
  Master_User: 'repl',
  Master_Port: 40551,
  Connect_Retry: 1,
  Master_Log_File: 'binlog.000001',
  Read_Master_Log_Pos: 1092,
  Relay_Log_File: 'mysqld-relay-bin.000002',
  Relay_Log_Pos: 1388,
  Relay_Master_Log_File: 'binlog.000001',
  Slave_IO_Running: 'Yes',
  Slave_SQL_Running: 'Yes',
  Replicate_Do_DB: '',
  Replicate_Ignore_DB: '',
  Replicate_Do_Table: '',
  Replicate_Ignore_Table: '',
  Replicate_Wild_Do_Table: '',
  Replicate_Wild_Ignore_Table: '',
  Last_Errno: 0,
  Last_Error: '',
  Skip_Counter: 0,
  Exec_Master_Log_Pos: 1092,
  Relay_Log_Space: 1698,
  Until_Condition: 'None',
  Until_Log_File: '',
  Until_Log_Pos: 0,
  Master_SSL_Allowed: 'No',
  Master_SSL_CA_File: '',
  Master_SSL_CA_Path: '',
  Master_SSL_Cert: '',
  Master_SSL_Cipher: '',
  Master_SSL_Key: '',
  Seconds_Behind_Master: 0,
  Master_SSL_Verify_Server_Cert: 'No',
  Last_IO_Errno: 0,
  Last_IO_Error: '',
  Last_SQL_Errno: 0,
  Last_SQL_Error: '',
  Replicate_Ignore_Server_Ids: '',
  Master_Server_Id: 1,
  Master_SSL_Crl: '',
  Master_SSL_Crlpath: '',
  Using_Gtid: 'Slave_Pos',
  Gtid_IO_Pos: '1-1-5',
  Replicate_Do_Domain_Ids: '',
  Replicate_Ignore_Domain_Ids: '',
  Parallel_Mode: 'optimistic',
  SQL_Delay: 0,
  SQL_Remaining_Delay: null,
  Slave_SQL_Running_State: 'Slave has read all relay log; waiting for more updates',
  Slave_DDL_Groups: 4,
  Slave_Non_Transactional_Groups: 0,
  Slave_Transactional_Groups: 1,
  Replicate_Rewrite_DB: '',
};

const MARIADB_WRONG_PASSWORD = {
  // The same server's row, captured in another state: only these columns differ.
  ...MARIADB_RUNNING,
  Slave_IO_State: 'Connecting to master',
  Master_Log_File: '',
  Read_Master_Log_Pos: 4,
  Relay_Log_File: 'mysqld-relay-bin.000001',
  Relay_Log_Pos: 4,
  Relay_Master_Log_File: '',
  Slave_IO_Running: 'Connecting',
  Exec_Master_Log_Pos: 4,
  Relay_Log_Space: 256,
  Seconds_Behind_Master: null,
  Last_IO_Errno: 1045,
  Last_IO_Error: "error connecting to master 'repl@127.0.0.1:40551' - retry-time: 1  maximum-retries: 100000  message: Access denied for user 'repl'@'localhost' (using password: YES)",
  Master_Server_Id: 0,
  Gtid_IO_Pos: '',
  Slave_DDL_Groups: 0,
  Slave_Transactional_Groups: 0,
};

const MARIADB_SQL_ERROR = {
  // The same server's row, captured in another state: only these columns differ.
  ...MARIADB_RUNNING,
  Read_Master_Log_Pos: 1256,
  Relay_Log_Pos: 664,
  Slave_SQL_Running: 'No',
  Last_Errno: 1062,
  Last_Error: "Error 'Duplicate entry '2' for key 'PRIMARY'' on query. Default database: ''. Query: 'INSERT INTO app.t VALUES (2)'",
  Relay_Log_Space: 1138,
  Seconds_Behind_Master: null,
  Last_SQL_Errno: 1062,
  Last_SQL_Error: "Error 'Duplicate entry '2' for key 'PRIMARY'' on query. Default database: ''. Query: 'INSERT INTO app.t VALUES (2)'",
  Gtid_IO_Pos: '1-1-6',
  Slave_SQL_Running_State: '',
  Slave_Transactional_Groups: 2,
};

const MARIADB_STOPPED = {
  // The same server's row, captured in another state: only these columns differ.
  ...MARIADB_RUNNING,
  Slave_IO_State: '',
  Slave_IO_Running: 'No',
  Slave_SQL_Running: 'No',
  Seconds_Behind_Master: null,
  Slave_SQL_Running_State: '',
};

// SELECT of Dialect.instanceVariables on the same replica (captured likewise).
const MARIADB_VARIABLES = {
  version: '10.11.19-MariaDB-0+deb12u1-log',
  server_id: 2,
  read_only: 0,
  gtid_current: '1-1-5,2-2-3',
  gtid_binlog: '1-1-5',
};
// MySQL 8.0 SHOW REPLICA STATUS, the columns duet reads, after the example in the MySQL 8.0 reference
// manual (not captured here: no MySQL server on this machine). The GTID set wraps as mysql prints it.
const MYSQL_RUNNING = {
  Replica_IO_State: 'Waiting for source to send event',
  Source_Host: '10.0.0.1',
  Source_User: 'repl',
  Source_Port: 3306,
  Connect_Retry: 10,
  Replica_IO_Running: 'Yes',
  Replica_SQL_Running: 'Yes',
  Last_Errno: 0,
  Last_Error: '',
  Seconds_Behind_Source: 0,
  Last_IO_Errno: 0,
  Last_IO_Error: '',
  Last_SQL_Errno: 0,
  Last_SQL_Error: '',
  Source_Server_Id: 1,
  Source_UUID: '3e11fa47-71ca-11e1-9e33-c80aa9429562',
  Retrieved_Gtid_Set: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4e11fa47-71ca-11e1-9e33-c80aa9429563:1-2',
  Executed_Gtid_Set: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5',
  Auto_Position: 1,
};

test('a running MariaDB replica', () => {
  assert.deepEqual(parseReplicaStatus(MARIADB_RUNNING), {
    sourceHost: '127.0.0.1',
    sourcePort: MARIADB_RUNNING.Master_Port,
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
    gtidIoPos: MARIADB_RUNNING.Gtid_IO_Pos,
    sourceServerId: 1,
    tls: { enabled: false, verifyServerCert: false, ca: '', cert: '', key: '' },
  });
});

test("a MariaDB replica's TLS columns", () => {
  const status = parseReplicaStatus({
    ...MARIADB_RUNNING,
    Master_SSL_Allowed: 'Yes',
    Master_SSL_CA_File: '/etc/mysql/duet-ca.pem',
    Master_SSL_Cert: '/etc/mysql/duet-cert.pem',
    Master_SSL_Key: '/etc/mysql/duet-key.pem',
    Master_SSL_Verify_Server_Cert: 'Yes',
  });
  assert.deepEqual(status.tls, { enabled: true, verifyServerCert: true, ca: '/etc/mysql/duet-ca.pem', cert: '/etc/mysql/duet-cert.pem', key: '/etc/mysql/duet-key.pem' });
  assert.ok(usesTls(status, { ca: '/etc/mysql/duet-ca.pem', cert: '/etc/mysql/duet-cert.pem', key: '/etc/mysql/duet-key.pem' }));
  assert.ok(!usesTls({ ...status, tls: { ...status.tls, verifyServerCert: false } }, status.tls));
  assert.ok(!usesTls(parseReplicaStatus(MARIADB_RUNNING), status.tls));
});

test('a MariaDB replica that cannot log in keeps Connecting with the I/O error', () => {
  const status = parseReplicaStatus(MARIADB_WRONG_PASSWORD);
  assert.equal(status.ioRunning, 'Connecting');
  assert.equal(status.sqlRunning, 'Yes');
  assert.equal(status.lastIoErrno, 1045);
  assert.match(status.lastIoError, /Access denied for user 'repl'/);
  assert.equal(status.secondsBehind, null);
  assert.equal(status.sourceServerId, 0);
});

test('a MariaDB replica stopped by an SQL error, and one stopped on purpose', () => {
  const failed = parseReplicaStatus(MARIADB_SQL_ERROR);
  assert.deepEqual([failed.ioRunning, failed.sqlRunning, failed.lastSqlErrno], ['Yes', 'No', 1062]);
  assert.match(failed.lastSqlError, /Duplicate entry '2'/);
  const stopped = parseReplicaStatus(MARIADB_STOPPED);
  assert.deepEqual([stopped.ioRunning, stopped.sqlRunning, stopped.ioState, stopped.secondsBehind], ['No', 'No', '', null]);
});

test('MariaDB Using_Gtid values map to GTID modes', () => {
  for (const [value, mode] of [['Slave_Pos', 'slave_pos'], ['Current_Pos', 'current_pos'], ['No', 'no']] as const) {
    assert.equal(parseReplicaStatus({ ...MARIADB_RUNNING, Using_Gtid: value }).usingGtid, mode);
  }
  assert.equal(parseReplicaStatus({ ...MARIADB_RUNNING, Slave_IO_Running: 'Preparing' }).ioRunning, 'Preparing');
});

test('MySQL 8 Source_/Replica_ columns parse into the same shape', () => {
  const status = parseReplicaStatus(MYSQL_RUNNING);
  assert.equal(status.sourceHost, '10.0.0.1');
  assert.equal(status.sourcePort, 3306);
  assert.deepEqual([status.ioRunning, status.sqlRunning, status.secondsBehind], ['Yes', 'Yes', 0]);
  assert.equal(status.usingGtid, 'auto_position');
  assert.equal(status.gtidIoPos, '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4e11fa47-71ca-11e1-9e33-c80aa9429563:1-2');
  assert.equal(parseReplicaStatus({ ...MYSQL_RUNNING, Auto_Position: 0 }).usingGtid, 'no');
  assert.equal(parseReplicaStatus({ ...MYSQL_RUNNING, Seconds_Behind_Source: null }).secondsBehind, null);
});

test('rows that are not replica status are refused', () => {
  assert.throws(() => parseReplicaStatus({ File: 'binlog.000001', Position: 1256 }), HostStateError);
  assert.throws(() => parseReplicaStatus({ ...MARIADB_RUNNING, Slave_IO_Running: 'Maybe' }), /unexpected value "Maybe"/);
});

test('InstanceState from the variables row and SHOW SLAVE STATUS', () => {
  const state = parseInstanceState(MARIADB_VARIABLES, [MARIADB_RUNNING], 'mariadb');
  assert.deepEqual({ ...state, replica: state.replica?.sourceHost }, {
    version: '10.11.19-MariaDB-0+deb12u1-log',
    flavor: 'mariadb',
    serverId: 2,
    readOnly: false,
    gtid: { current: MARIADB_VARIABLES.gtid_current, binlog: MARIADB_VARIABLES.gtid_binlog },
    replica: '127.0.0.1',
  });
  const fresh = parseInstanceState({ ...MARIADB_VARIABLES, read_only: 1, gtid_current: '', gtid_binlog: '' }, [], 'mariadb');
  assert.deepEqual([fresh.readOnly, fresh.replica, fresh.gtid.current], [true, undefined, '']);
  // mysql2 returns BIGINT columns as strings with bigNumberStrings.
  assert.equal(parseInstanceState({ ...MARIADB_VARIABLES, server_id: '4294967295' }, [], 'mariadb').serverId, 4294967295);
});

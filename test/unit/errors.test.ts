// Error classes by meaning: a lost MySQL connection is a TransportError and a rejected statement an
// SqlError, told apart by mysql2's codes; failures after a first change become ApplyErrors (exit 5).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterFirstChange, ApplyError, ReplicationError, SqlError, TransportError, UsageError } from '../../src/errors.ts';
import { sqlFailure } from '../../src/mysql/dao.ts';

function mysql2Error(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

test('a server error is an SqlError carrying errno, code and SQLSTATE; with a secret, no server text (exit 4)', () => {
  const err = sqlFailure(
    mysql2Error("You have an error in your SQL syntax near 'hunter2'", { code: 'ER_PARSE_ERROR', errno: 1064, sqlState: '42000', fatal: false }),
    'CREATE USER ?@? IDENTIFIED BY ?',
    'db1',
    true,
  );
  assert.ok(err instanceof SqlError);
  assert.equal(err.errno, 1064);
  assert.equal(err.code, 'ER_PARSE_ERROR');
  assert.equal(err.sqlState, '42000');
  assert.equal(err.host, 'db1');
  assert.equal(err.exitCode, 4);
  assert.match(err.message, /^CREATE USER \?@\? IDENTIFIED BY \? failed: server error 1064 ER_PARSE_ERROR; the server's message is not shown/);
  assert.ok(!err.message.includes('hunter2'));
});

test('a lost connection is a TransportError by mysql2 code, whatever the message says (exit 3)', () => {
  for (const code of ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) {
    const err = sqlFailure(mysql2Error('anything at all', { code, fatal: true }), 'SELECT 1', 'db2');
    assert.ok(err instanceof TransportError, code);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, new RegExp(`^the MySQL connection was lost during SELECT 1 \\(${code}\\)`));
  }
  // mysql2's "Can't add new command when connection is in closed state": fatal, no code, no errno.
  assert.ok(sqlFailure(mysql2Error("Can't add new command when connection is in closed state", { fatal: true }), 'SELECT 1', 'db2') instanceof TransportError);
  // MariaDB's ER_CONNECTION_KILLED ends the session.
  assert.ok(sqlFailure(mysql2Error('Connection was killed', { errno: 1927, sqlState: '70100', fatal: true }), 'SELECT 1', 'db2') instanceof TransportError);
  // A message that mentions a connection does not make a server error a transport one.
  assert.ok(sqlFailure(mysql2Error('Lost connection to server at handshake', { code: 'ER_NO_SUCH_TABLE', errno: 1146 }), 'SELECT 1', 'db2') instanceof SqlError);
});

test('afterFirstChange: failures after a change become ApplyErrors; ApplyErrors and bugs pass through', async () => {
  const refused = new ReplicationError('replica SQL error 1062', { host: 'db2', hint: 'look at the replica' });
  await assert.rejects(
    afterFirstChange('replication on db2 was started but does not run', () => Promise.reject(refused)),
    (err: unknown) => err instanceof ApplyError && err.exitCode === 5 && err.host === 'db2' && err.hint === 'look at the replica' && err.message === 'replication on db2 was started but does not run: replica SQL error 1062',
  );
  await assert.rejects(afterFirstChange('x', () => Promise.reject(new UsageError('u')), 'run swap --resume'), (err: unknown) => err instanceof ApplyError && err.hint === 'run swap --resume');
  const applied = new ApplyError('rolled back');
  await assert.rejects(afterFirstChange('x', () => Promise.reject(applied)), (err: unknown) => err === applied);
  const bug = new TypeError('undefined is not a function');
  await assert.rejects(afterFirstChange('x', () => Promise.reject(bug)), (err: unknown) => err === bug);
  assert.equal(await afterFirstChange('x', async () => 42), 42);
});

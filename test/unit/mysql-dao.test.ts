// dao.ts without a server: the statements a new session sends, in order, and what a failed statement
// may show. A fake connection records what it is asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { SqlError } from '../../src/errors.ts';
import { Secret } from '../../src/inventory/secret.ts';
import { openSession, query } from '../../src/mysql/dao.ts';
import { dialectFor } from '../../src/mysql/dialect.ts';

interface Sent {
  sql: string;
  values: unknown[] | undefined;
}

function fakeConnection(answer: (sql: string) => unknown[] | Error): { connection: Connection; sent: Sent[]; ended: () => boolean } {
  const sent: Sent[] = [];
  let ended = false;
  const connection = {
    async query(sql: string, values?: unknown[]) {
      sent.push({ sql, values });
      const result = answer(sql);
      if (result instanceof Error) throw result;
      return [result, []];
    },
    async end() {
      ended = true;
    },
    destroy() {
      ended = true;
    },
  } as unknown as Connection;
  return { connection, sent, ended: () => ended };
}

/** An error as mysql2 reports a server error (errno, code, the server's text). */
function serverError(errno: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { errno, code, sqlState: 'HY000', sql: 'the interpolated statement' });
}

test('a new session sets its own sql_mode and character set before anything else', async () => {
  const { connection, sent } = fakeConnection((sql) => (sql.startsWith('SELECT @@version') ? [{ version: '10.11.19-MariaDB-0+deb12u1-log' }] : []));
  const session = await openSession(connection, 'db-01');
  assert.equal(session.dialect.flavor, 'mariadb');
  assert.deepEqual(
    sent.map((s) => s.sql),
    [
      "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
      'SET NAMES utf8mb4',
      'SELECT @@version AS version',
    ],
  );
  // Neither mode that changes what a quote or a backslash means in a string literal.
  assert.doesNotMatch(sent[0]!.sql, /NO_BACKSLASH_ESCAPES|ANSI_QUOTES|ANSI'/);
  // Only then statements with values; the driver's backslash escaping is what the session parses.
  await query(session, { sql: 'ALTER USER ?@? IDENTIFIED BY ?', params: ['repl', '10.0.0.2', new Secret("it's\\", 'test')] });
  assert.deepEqual(sent.at(-1), { sql: 'ALTER USER ?@? IDENTIFIED BY ?', values: ['repl', '10.0.0.2', "it's\\"] });
});

test('a session whose setup fails is closed and reported as a host problem (SqlError, exit 4)', async () => {
  const fake = fakeConnection(() => serverError(1231, 'ER_WRONG_VALUE_FOR_VAR', "Variable 'sql_mode' can't be set"));
  await assert.rejects(openSession(fake.connection, 'db-01'), (err: unknown) => {
    assert.ok(err instanceof SqlError && err.exitCode === 4);
    assert.equal(err.host, 'db-01');
    assert.match(err.message, /^SET SESSION sql_mode = .* failed: Variable 'sql_mode'/);
    return true;
  });
  assert.ok(fake.ended());
});

test('a failed statement with a secret shows the error number, never the server text', async () => {
  const password = new Secret('S3cr3t-'.padEnd(113, 'x'), 'env DUET_REPL_PASSWORD');
  // What MariaDB answered to a 113-character MASTER_PASSWORD: about 70 characters of it, quoted.
  const text = `String '${password.reveal().slice(0, 70)}...' is too long for MASTER_PASSWORD (should be no longer than 96)`;
  const { connection } = fakeConnection(() => serverError(1470, 'ER_WRONG_STRING_LENGTH', text));
  const session = { node: 'db-02', dialect: dialectFor('10.11.19-MariaDB'), connection };
  const statement = session.dialect.changeSource({ host: '10.0.0.1', port: 3306, user: 'repl', password, useGtid: true });
  await assert.rejects(query(session, statement), (err: unknown) => {
    assert.ok(err instanceof SqlError && err.errno === 1470);
    assert.equal(err.message, `${statement.sql} failed: server error 1470 ER_WRONG_STRING_LENGTH; the server's message is not shown because the statement carries a secret`);
    assert.equal(err.hint, "perror 1470 explains the number; the server's error log may say more");
    assert.equal(err.cause, undefined);
    assert.ok(!`${err.message}${err.hint}${String(err.stack)}`.includes('S3cr3t'));
    return true;
  });
});

test('a lost connection during a statement with a secret is a transport error and names no server text either', async () => {
  const { connection } = fakeConnection(() => Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' }));
  const session = { node: 'db-02', dialect: dialectFor('10.11.19-MariaDB'), connection };
  await assert.rejects(query(session, { sql: 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', params: ['repl', 'h', new Secret('0123456789abcdef', 't')] }), {
    name: 'TransportError',
    message: 'the MySQL connection was lost during CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ? (PROTOCOL_CONNECTION_LOST): PROTOCOL_CONNECTION_LOST (no server error number); the server\'s message is not shown because the statement carries a secret',
  });
});

test('a failed statement without a secret shows the server text', async () => {
  const { connection } = fakeConnection(() => serverError(1146, 'ER_NO_SUCH_TABLE', "Table 'duet.canary' doesn't exist"));
  const session = { node: 'db-01', dialect: dialectFor('10.11.19-MariaDB'), connection };
  await assert.rejects(query(session, { sql: 'SELECT 1 FROM duet.canary WHERE writer = ?', params: ['db-01'] }), {
    message: "SELECT 1 FROM duet.canary WHERE writer = ? failed: Table 'duet.canary' doesn't exist",
  });
});

// --verbose: every SQL statement and remote command is traced as it runs, secrets never.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { Secret } from '../../src/inventory/secret.ts';
import { query, type MysqlSession } from '../../src/mysql/dao.ts';
import { setTraceSink, traceCommand, traceSql } from '../../src/trace.ts';

afterEach(() => setTraceSink(undefined));

test('an SQL statement is traced with its parameters, a secret as [redacted]', async () => {
  const lines: string[] = [];
  setTraceSink((line) => lines.push(line));
  const revealed: unknown[][] = [];
  const session = {
    node: 'db1',
    connection: { query: async (_sql: string, params: unknown[]) => (revealed.push(params), [[{ ok: 1 }]]) },
  } as unknown as MysqlSession;
  const pw = new Secret('hunter2', 'env DUET_REPL_PASSWORD');
  assert.deepEqual(await query(session, { sql: "ALTER USER ?@?\n  IDENTIFIED BY ?", params: ['repl', '192.0.2.12', pw] }), [{ ok: 1 }]);
  assert.deepEqual(lines, ['db1 SQL> ALTER USER ?@? IDENTIFIED BY ?  -- "repl", "192.0.2.12", [redacted]']);
  assert.deepEqual(revealed, [['repl', '192.0.2.12', 'hunter2']], 'the server still gets the value');
});

test('a remote command: its first line, how many more, and that stdin is not shown', () => {
  assert.equal(traceCommand('db2', 'systemctl restart mariadb', false), 'db2 $ systemctl restart mariadb');
  assert.equal(traceCommand('db2', 'set -e\nuname -n\ncat /etc/ha.d/ha.cf\n', true), 'db2 $ set -e ... (3 lines) (with input on stdin, not shown)');
});

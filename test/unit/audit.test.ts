// The audit log: one JSON line per change, who/where/what/why, never a secret.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { audit, AuditLog, auditSql, formatHistoryEntry, readAuditLog, roleHistory, setAuditLog, type AuditEntry } from '../../src/audit.ts';
import { UsageError } from '../../src/errors.ts';
import { Secret } from '../../src/inventory/secret.ts';
import { applyHostPlan } from '../../src/ops/apply.ts';
import type { HostFacts } from '../../src/plan/facts.ts';
import type { SshConnection } from '../../src/transport/ssh.ts';

afterEach(() => setAuditLog(undefined));

const password = new Secret('repl-s3cret-0123456789', 'env DUET_REPL_PASSWORD');

function openLog(command = 'provision'): AuditLog {
  const path = join(mkdtempSync(join(tmpdir(), 'duet-audit-')), 'log', 'shop.jsonl');
  const log = new AuditLog(path, { cluster: 'shop', command, secrets: [password], warn: () => {} });
  log.open();
  setAuditLog(log);
  return log;
}

test('one JSON line per change: time, user, cluster, host, command, phase, what; the file 0600 in a 0700 folder', () => {
  const log = openLog();
  audit({ host: 'db1', phase: 'converge', kind: 'sql', what: 'created database app on db1' });
  audit({ host: 'db2', phase: 'converge', kind: 'role', what: 'recorded db2 as the writer', pair: 'main', writer: 'db2' });
  const lines = readFileSync(log.path, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!) as AuditEntry;
  assert.match(first.time, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual({ ...first, time: '' }, { time: '', user: userInfo().username, ...(first.sudo_user ? { sudo_user: first.sudo_user } : {}), cluster: 'shop', command: 'provision', host: 'db1', phase: 'converge', kind: 'sql', what: 'created database app on db1' });
  assert.equal(statSync(log.path).mode & 0o777, 0o600);
  assert.equal(statSync(join(log.path, '..')).mode & 0o777, 0o700);
  assert.deepEqual(readAuditLog(log.path).map((e) => e.host), ['db1', 'db2']);
});

test('never a secret: a Secret parameter shows as [redacted] (as in --verbose), and a leaked value is redacted too', () => {
  const log = openLog('swap');
  const statement = { sql: 'CHANGE MASTER TO MASTER_USER = ?, MASTER_PASSWORD = ?', params: ['repl', password] };
  assert.equal(auditSql(statement), 'CHANGE MASTER TO MASTER_USER = ?, MASTER_PASSWORD = ?  -- "repl", [redacted]');
  audit({ host: 'db1', phase: 'converge', kind: 'sql', what: `oops ${password.reveal()} in a message`, statements: [auditSql(statement)] });
  const text = readFileSync(log.path, 'utf8');
  assert.ok(!text.includes(password.reveal()), text);
  const [entry] = readAuditLog(log.path);
  assert.equal(entry!.what, 'oops [redacted] in a message');
  assert.deepEqual(entry!.statements, ['CHANGE MASTER TO MASTER_USER = ?, MASTER_PASSWORD = ?  -- "repl", [redacted]']);
});

test('without an open log audit() does nothing; an unwritable log is a usage error before any change', () => {
  audit({ host: 'db1', phase: 'apply', kind: 'file', what: 'nothing to write to' });
  const dir = mkdtempSync(join(tmpdir(), 'duet-audit-'));
  const blocker = join(dir, 'file');
  writeFileSync(blocker, '');
  chmodSync(blocker, 0o600);
  const log = new AuditLog(join(blocker, 'shop.jsonl'), { cluster: 'shop', command: 'swap', secrets: [], warn: () => {} });
  assert.throws(() => log.open(), (err: unknown) => err instanceof UsageError && err.exitCode === 2 && /cannot open the audit log/.test(err.message));
});

test('roleHistory: the last N role changes of the pairs asked for; a missing log is empty', () => {
  const entry = (what: string, kind: AuditEntry['kind'], pair?: string): AuditEntry => ({
    time: '2025-01-01T00:00:00.000Z', user: 'op', cluster: 'shop', command: 'swap', host: 'db1', phase: 'swap', kind, what, ...(pair ? { pair } : {}),
  });
  const entries = [entry('a', 'role', 'main'), entry('b', 'sql', 'main'), entry('c', 'role', 'other'), entry('d', 'role', 'main'), entry('e', 'role', 'main')];
  assert.deepEqual(roleHistory(entries, ['main'], 2).map((e) => e.what), ['d', 'e']);
  assert.deepEqual(roleHistory(entries, ['main'], 0), []);
  assert.equal(formatHistoryEntry({ ...entries[0]!, sudo_user: 'alice', user: 'root' }), '2025-01-01T00:00:00.000Z swap (alice as root): a');
  assert.deepEqual(readAuditLog(join(tmpdir(), 'duet-no-such-log.jsonl')), []);
});

test('apply records each installed file and each service action, with the phase it ran in', async () => {
  const log = openLog();
  const ssh = {
    target: { name: 'db-01', host: '192.0.2.11', port: 22 },
    // The install script prints a line for each file it put in place.
    exec: async (command: string) => ({ code: 0, stdout: [...command.matchAll(/^echo (installed \d+)$/gm)].map((m) => m[1]).join('\n'), stderr: '' }),
    run: async () => ({ code: 0, stdout: '', stderr: '' }),
  } as unknown as SshConnection;
  const file = { path: '/etc/ha.d/ha.cf', content: 'keepalive 2\n', mode: 0o644, owner: 'root', group: 'root', service: 'heartbeat' as const, secret: false };
  const plan = { host: 'db-01', changes: [{ file, action: 'update' as const, contentChanged: true, metadataChanged: false, diff: '', reasons: [] }], services: ['heartbeat' as const], repairs: [] };
  const facts = { initSystem: 'systemd', running: { mysql: true, heartbeat: true } } as HostFacts;
  await applyHostPlan(plan, { ssh, facts, flavor: 'mariadb', log: () => {}, phase: 'swap record' });
  assert.deepEqual(
    readAuditLog(log.path).map((e) => [e.host, e.phase, e.kind, e.what]),
    [
      ['db-01', 'swap record', 'file', 'replaced /etc/ha.d/ha.cf (root:root 0644)'],
      ['db-01', 'swap record', 'service', 'ran systemctl reload heartbeat'],
    ],
  );
});

// verify against the fixture hosts: a provisioned pair passes, then one fault at a time is made on
// purpose and verify must name it, and pass again once the fault is undone. Real sshd, MariaDB,
// iptables and Heartbeat; nothing is mocked.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Finding } from '../../src/ops/verify-checks.ts';
import type { VerifyReport } from '../../src/ops/verify.ts';
import { duet, REPO_ROOT } from './helpers/cli.ts';
import { useFixtures } from './helpers/fixtures.ts';

const fx = useFixtures();
const INVENTORY = join(REPO_ROOT, 'inventory/fixtures.yml');
// Probes of a dropped port wait this long; short, so the faults that drop packets stay quick.
const TIMEOUT_SECONDS = '2';
const timings: string[] = [];

async function sh(host: string, command: string): Promise<string> {
  const result = await fx.ssh(host, command);
  assert.equal(result.code, 0, `${host}: \`${command}\` exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

const sql = (host: string, statement: string) => sh(host, `mariadb app -Nse ${JSON.stringify(statement)}`);

/** Runs verify as a user does; the secrets of the fixture inventory must never be printed. */
async function runVerify(args: string[] = [], inventory = INVENTORY): Promise<{ code: number; report: VerifyReport; stdout: string }> {
  const started = Date.now();
  const result = await duet('verify', [inventory, '--json', '--timeout', TIMEOUT_SECONDS, ...args]);
  timings.push(`${Date.now() - started}`);
  for (const secret of ['repl_password', 'ha_authkey']) {
    const value = readFileSync(join(fx.stateDir, 'secrets', secret), 'utf8').trim();
    assert.ok(!`${result.stdout}${result.stderr}`.includes(value), `verify printed the ${secret} secret`);
  }
  let report: VerifyReport;
  try {
    report = JSON.parse(result.stdout) as VerifyReport;
  } catch {
    assert.fail(`verify printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { code: result.code, report, stdout: result.stdout };
}

function failures(report: VerifyReport): Finding[] {
  return report.findings.filter((f) => f.status === 'fail');
}

function describeFailures(report: VerifyReport): string {
  return failures(report).map((f) => `${f.check} ${f.host ?? f.pair}: ${f.message}`).join('\n') || '(none)';
}

async function verifyFails(): Promise<VerifyReport> {
  const { code, report } = await runVerify();
  assert.equal(code, 1, describeFailures(report));
  return report;
}

/** Among the failures is one of `check` on `host` (undefined: the pair) whose message matches. */
function assertNamed(report: VerifyReport, check: Finding['check'], host: string | undefined, message: RegExp, hint?: RegExp): void {
  const match = failures(report).find((f) => f.check === check && f.host === host && message.test(f.message));
  assert.ok(match, `no failed ${check} finding for ${host ?? 'the pair'} matching ${message}; failures:\n${describeFailures(report)}`);
  if (hint) assert.match(match.hint ?? '', hint);
}

async function assertPasses(): Promise<VerifyReport> {
  const { code, report } = await runVerify();
  assert.equal(code, 0, describeFailures(report));
  return report;
}

/** Makes a fault, asserts what verify says about it, undoes it, and verify passes again. */
async function withFault(fault: { host: string; make: string; undo: string }, named: (report: VerifyReport) => void): Promise<void> {
  await sh(fault.host, fault.make);
  try {
    named(await verifyFails());
  } finally {
    await sh(fault.host, fault.undo);
  }
  await assertPasses();
}

/** The application's rows on db2 equal db1's (replication has caught up). */
async function replicated(statement: string): Promise<void> {
  const want = await sql('db1', statement);
  for (let i = 0; i < 50 && (await sql('db2', statement).catch(() => '')) !== want; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await sql('db2', statement), want);
}

describe('verify', () => {
  before(async () => {
    const started = Date.now();
    const provisioned = await duet('provision', [INVENTORY, '--yes']);
    assert.equal(provisioned.code, 0, provisioned.stderr);
    process.stderr.write(`# provision: ${Date.now() - started} ms\n`);
    // Application data, so the checksums compare something: written the way an application does.
    await sql('db1', 'CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20)); CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)');
    await sql('db1', "INSERT INTO items (name) VALUES ('apple'), ('pear'), ('plum'); INSERT INTO notes VALUES (1, 'a note')");
    await replicated('SELECT id, name FROM items ORDER BY id');
  });

  after(() => process.stderr.write(`# verify wall times (ms, as a separate process): ${timings.join(', ')}\n`));

  it('passes on a freshly provisioned pair, with every figure in --json', async () => {
    const report = await assertPasses();
    const checks = new Set(report.findings.map((f) => f.check));
    for (const check of ['replication', 'tls', 'canary', 'config', 'consistency', 'roles', 'firewall', 'drift'] as const) assert.ok(checks.has(check), `no ${check} finding`);
    const canary = report.findings.filter((f) => f.check === 'canary');
    assert.deepEqual(canary.map((f) => f.host), ['db1', 'db2']);
    for (const f of canary) assert.ok((f.figures?.roundTripMs ?? -1) >= 0, JSON.stringify(f));
    assert.ok(report.findings.some((f) => f.check === 'consistency' && f.figures?.tables === 2), 'both application tables compared');
    assert.ok(report.findings.some((f) => f.check === 'roles' && /198\.18\.0\.100:3306 reaches db1, a writable node/.test(f.message)));
    for (const host of ['db1', 'db2']) {
      const firewall = report.findings.find((f) => f.check === 'firewall' && f.host === host)?.message ?? '';
      assert.match(firewall, /^the rules in force are the rendered ones \(IPv4 and IPv6\), and a boot loads them \(the ifupdown hook \/etc\/network\/if-pre-up\.d\/duet-iptables\)/);
    }
    assert.deepEqual(Object.keys(report.summary.canaryMs), ['db1 -> db2', 'db2 -> db1']);
    process.stderr.write(`# canary: ${JSON.stringify(report.summary.canaryMs)} ms; verify took ${report.summary.elapsedMs} ms inside\n`);

    const text = await duet('verify', [INVENTORY]);
    assert.equal(text.code, 0, text.stdout);
    assert.match(text.stdout, /^verify PASSED: 0 failed, 0 warning\(s\), \d+ ok in [\d.]+ s; canary db1 -> db2 \d+ ms, db2 -> db1 \d+ ms$/m);
  });

  it('names a stopped SQL thread', () =>
    withFault({ host: 'db2', make: "mariadb -e 'STOP SLAVE SQL_THREAD'", undo: "mariadb -e 'START SLAVE SQL_THREAD'" }, (report) => {
      assertNamed(report, 'replication', 'db2', /SQL thread stopped without an error/, /START SLAVE SQL_THREAD on db2/);
      assertNamed(report, 'canary', 'db1', /not attempted: replication into db2 is not running/);
    }));

  it('names the same server_id on both nodes', () =>
    withFault({ host: 'db2', make: "mariadb -e 'SET GLOBAL server_id = 11'", undo: "mariadb -e 'SET GLOBAL server_id = 12'" }, (report) => {
      assertNamed(report, 'config', undefined, /both nodes run server_id 11/);
      assertNamed(report, 'config', 'db2', /runs with server_id 11, the inventory says 12/, /SET GLOBAL server_id = 12 on db2/);
    }));

  it('names an IPv6 policy set to ACCEPT, and a boot hook that would not run', () =>
    withFault(
      { host: 'db2', make: 'ip6tables -P INPUT ACCEPT && chmod 644 /etc/network/if-pre-up.d/duet-iptables', undo: 'ip6tables -P INPUT DROP && chmod 755 /etc/network/if-pre-up.d/duet-iptables' },
      (report) => {
        assertNamed(report, 'firewall', 'db2', /^IPv6: the INPUT policy is ACCEPT, the rendered rules say DROP$/, /ip6tables-restore < \/etc\/ip6tables\.rules on db2/);
        assertNamed(report, 'firewall', 'db2', /^a boot would not load the rendered rules: \/etc\/network\/if-pre-up\.d\/duet-iptables is not as rendered \(mode 0644 -> 0755\)/, /run provision/);
      },
    ));

  it('names a dropped firewall rule for the peer', () =>
    withFault({ host: 'db1', make: 'iptables -D INPUT -s 198.18.0.12/32 -p tcp -m tcp --dport 3306 -j ACCEPT', undo: 'iptables-restore < /etc/iptables.rules' }, (report) => {
      assertNamed(report, 'firewall', 'db1', /rule not loaded: -A INPUT -s 198\.18\.0\.12\/32 -p tcp -m tcp --dport 3306 -j ACCEPT \(Replication from the peer \(db2\)\)/, /iptables-restore/);
      assertNamed(report, 'firewall', 'db1', /db2 cannot open a connection to db1:3306/);
    }));

  // duet's monitor makes a writable node without the floating IP read-only within a second or two:
  // it is paused on db2 (its maintenance window) so the fault lasts while verify looks.
  it('names two writable nodes', () =>
    withFault(
      { host: 'db2', make: "echo $(($(date +%s) + 120)) > /run/duet-maintenance && mariadb -e 'SET GLOBAL read_only = OFF'", undo: "mariadb -e 'SET GLOBAL read_only = ON' && rm -f /run/duet-maintenance" },
      (report) => assertNamed(report, 'roles', undefined, /both nodes are writable/, /SET GLOBAL read_only = ON on db2/),
    ));

  it('names a hand-edited managed file', () =>
    withFault({ host: 'db1', make: 'cp -p /etc/ha.d/ha.cf /root/ha.cf.orig && echo "# tuned by hand" >> /etc/ha.d/ha.cf', undo: 'cp -p /root/ha.cf.orig /etc/ha.d/ha.cf' }, (report) =>
      assertNamed(report, 'drift', 'db1', /1 managed file\(s\) differ from the inventory: \/etc\/ha\.d\/ha\.cf \(content differs\)/, /provision --dry-run --limit db1/),
    ));

  it('names a table changed on one side only', () =>
    withFault(
      {
        host: 'db2',
        make: `mariadb app -e "SET sql_log_bin = 0; UPDATE items SET name = 'quince' WHERE id = 1"`,
        undo: `mariadb app -e "SET sql_log_bin = 0; UPDATE items SET name = 'apple' WHERE id = 1"`,
      },
      (report) => assertNamed(report, 'consistency', undefined, /the data differ between db1 and db2: app\.items$/),
    ));

  it('exits 3 when a host cannot be reached over SSH', async () => {
    const text = readFileSync(INVENTORY, 'utf8')
      .replaceAll('../.fixtures/', `${fx.stateDir}/`)
      .replace('connect_timeout: 5', 'connect_timeout: 1')
      .replace('server_id: 12 }', 'server_id: 12, ssh_port: 2 }');
    const path = join(mkdtempSync(join(fx.stateDir, 'inv-')), 'inventory.yml');
    writeFileSync(path, text);
    const { code, report } = await runVerify([], path);
    assert.equal(code, 3, describeFailures(report));
    assert.deepEqual(report.summary.unreachable, ['db2']);
  });
});

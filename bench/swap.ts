// What a client sees of a swap on the fixture pair: N swaps back and forth on one fresh, provisioned
// pair while an application on app1 (test/e2e/helpers/writer.ts, in app1's network namespace)
// writes one row every 10 ms through the floating IP and reads each acknowledged row back. For each
// swap: the client-seen write outage (the longest gap between two acknowledged writes around it),
// swap's freeze_ms and its critical path, and verify after it. At the end: every acknowledged row
// exactly once on both nodes (lost, duplicated). Prints figures; exits 1 when a swap or a verify
// failed or a row was lost or duplicated. npx tsx bench/swap.ts [swaps] [grace seconds]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURE_VIP, requireState } from '../src/fixtures/index.ts';
import { run } from '../src/fixtures/run.ts';
import { query } from '../src/mysql/dao.ts';
import { withConnections } from '../src/ops/status.ts';
import { swap } from '../src/ops/swap.ts';
import { DEFAULT_VERIFY_OPTIONS, exitCodeFor, verify } from '../src/ops/verify.ts';
import { provisionedFixturePair, summary, withFixtureHosts } from './harness.ts';

const swaps = Number(process.argv[2] ?? 20);
const graceSeconds = Number(process.argv[3] ?? 1);
const work = mkdtempSync(join(tmpdir(), 'duet-bench-swap-'));
const WRITER = fileURLToPath(new URL('../test/e2e/helpers/writer.ts', import.meta.url));
const APP_USER = 'writer';
const APP_PASSWORD = randomBytes(12).toString('hex');

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const figures = (label: string, values: number[]) =>
  `${label.padEnd(26)} p50 ${percentile(values, 50)} ms  p99 ${percentile(values, 99)} ms  max ${Math.max(...values)} ms  (${values.join(', ')})`;

/** The longest gap between two consecutive acknowledgements that spans any part of [from, to]. */
function outage(ackedAt: number[], from: number, to: number): number {
  let longest = 0;
  for (let i = 1; i < ackedAt.length; i++) {
    if (ackedAt[i]! >= from && ackedAt[i - 1]! <= to) longest = Math.max(longest, ackedAt[i]! - ackedAt[i - 1]!);
  }
  return longest;
}

let failed = false;
await withFixtureHosts(async () => {
  const inv = await provisionedFixturePair();
  const pair = inv.pairs[0]!;
  const app1 = requireState().hosts.find((h) => h.name === 'app1')!;
  await withConnections(inv, async (conn) => {
    const [db1] = pair.nodes;
    // With app as the default database: binlog_do_db filters statements by it.
    const session = await conn.mysql(db1!);
    await query(session, 'USE app');
    await query(session, 'CREATE TABLE writes (id INT AUTO_INCREMENT PRIMARY KEY, seq INT NOT NULL, KEY (seq))');
    // The application's account on each node (not replicated), with READ_ONLY ADMIN: the bypass a freeze must block.
    for (const node of pair.nodes) {
      const session = await conn.mysql(node);
      await query(session, 'SET SESSION sql_log_bin = 0');
      await query(session, { sql: 'CREATE USER ?@? IDENTIFIED BY ?', params: [APP_USER, app1.address, APP_PASSWORD] });
      await query(session, { sql: 'GRANT SELECT, INSERT ON app.* TO ?@?', params: [APP_USER, app1.address] });
      await query(session, { sql: 'GRANT READ_ONLY ADMIN ON *.* TO ?@?', params: [APP_USER, app1.address] });
      await query(session, 'SET SESSION sql_log_bin = 1');
    }
  });
  await new Promise((r) => setTimeout(r, 1000)); // the table reaches the peer

  const stopFile = join(work, 'stop');
  const client = run(
    ['ip', 'netns', 'exec', app1.netns, process.execPath, '--import', 'tsx', WRITER, '--host', FIXTURE_VIP, '--user', APP_USER, '--seconds', '3600', '--interval-ms', '10', '--read', '--stop-file', stopFile],
    { input: APP_PASSWORD, timeoutMs: 3_600_000, host: 'app1' },
  );
  await new Promise((r) => setTimeout(r, 2000));

  const windows: Array<[number, number]> = [];
  const freeze: number[] = [];
  const critical = new Map<string, number[]>();
  let verified = 0;
  for (let i = 0; i < swaps; i++) {
    const started = Date.now();
    const result = await withConnections(inv, (conn) =>
      swap(inv, conn, {
        pair, target: undefined, dryRun: false, resume: false, force: false, maxLagSeconds: 5, graceMs: graceSeconds * 1000, timeoutSeconds: 30,
        journalPath: join(work, 'main.jsonl'), log: () => {}, trace: () => {},
      }),
    );
    windows.push([started, Date.now()]);
    if (result.outcome !== 'swapped' || result.freeze_ms === undefined) {
      failed = true;
      console.log(`swap ${i + 1}: ${result.outcome}`);
      break;
    }
    freeze.push(result.freeze_ms);
    for (const s of result.critical_path ?? []) critical.set(s.step, [...(critical.get(s.step) ?? []), s.ms]);
    const report = await verify(inv, DEFAULT_VERIFY_OPTIONS);
    const ok = exitCodeFor(report) === 0;
    if (ok) verified++;
    else failed = true;
    console.log(`swap ${i + 1}: ${result.from} -> ${result.to}, freeze ${result.freeze_ms} ms (${(result.critical_path ?? []).map((s) => `${s.step} ${s.ms}`).join(', ')}), swap ${Date.now() - started} ms incl. verify ${ok ? 'ok' : `FAILED: ${JSON.stringify(report.findings.filter((f) => f.status === 'fail'))}`}`);
    await new Promise((r) => setTimeout(r, 1000));
  }

  writeFileSync(stopFile, '');
  const out = await client;
  const { acknowledged, failed: unacknowledged, errors, ackedAt, reads } = JSON.parse(out.stdout) as {
    acknowledged: number[]; failed: number[]; errors: Record<string, number>; ackedAt: number[]; reads: { ok: number; failed: number; wrong: number };
  };
  const outages = windows.map(([from, to]) => outage(ackedAt, from, to));
  // Every acknowledged row exactly once, on both nodes.
  let lost = 0;
  let duplicated = 0;
  await withConnections(inv, async (conn) => {
    await new Promise((r) => setTimeout(r, 2000)); // the last rows reach the peer
    for (const node of pair.nodes) {
      const rows = await query(await conn.mysql(node), 'SELECT seq, COUNT(*) AS n FROM app.writes GROUP BY seq');
      const counts = new Map(rows.map((r) => [Number(r.seq), Number(r.n)]));
      lost += acknowledged.filter((seq) => !counts.has(seq)).length;
      duplicated += [...counts.values()].filter((n) => n > 1).length;
    }
  });
  if (lost > 0 || duplicated > 0 || reads.wrong > 0) failed = true;

  console.log(`\n${swaps} swaps (grace ${graceSeconds} s), client on app1 writing every 10 ms and reading each row back through ${FIXTURE_VIP}`);
  console.log(figures('client write outage', outages));
  console.log(figures('freeze_ms', freeze));
  for (const [step, values] of critical) console.log(figures(`  ${step}`, values));
  console.log(`writes: ${acknowledged.length} acknowledged, ${unacknowledged.length} failed (${JSON.stringify(errors)}); reads: ${reads.ok} ok, ${reads.failed} failed, ${reads.wrong} wrong`);
  console.log(`lost ${lost}, duplicated ${duplicated} (both nodes); verify passed after ${verified} of ${freeze.length} swaps`);
  console.log(summary('freeze', freeze, 'ms'));
});
rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

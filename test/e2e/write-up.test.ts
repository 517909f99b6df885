// The Heartbeat write-up's closing test through the load-balanced tier (issue 11), on the fixtures:
// db1, db2, app1, lb1, lb2 provisioned by inventory/fixtures-lb.yml, then `duet drill --write-up`:
// shut down (power cut) and start (boot) the database nodes and lb1 in the write-up's order, a
// client on app1 writing through the tier's floating IP the whole time, and a fresh query through
// it at each "run a query". About 3 minutes (80 s of drill). Real hosts, no mocks.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { LB_HOST_SPECS } from '../../src/fixtures/index.ts';
import type { DrillReport } from '../../src/ops/drill/drill.ts';
import { duet, REPO_ROOT } from './helpers/cli.ts';
import { useFixtures } from './helpers/fixtures.ts';

useFixtures({ hosts: LB_HOST_SPECS });
const INVENTORY = join(REPO_ROOT, 'inventory/fixtures-lb.yml');

describe("the write-up's 17 steps through the load balancers", () => {
  before(async () => {
    const result = await duet('provision', [INVENTORY, '--yes'], { timeoutMs: 240_000 });
    assert.equal(result.code, 0, `provision failed:\n${result.stdout}\n${result.stderr}`);
  }, { timeout: 300_000 });

  it('every query answers within deadtime + 2 s, one writer at every step, nothing lost, verify passes', async () => {
    const result = await duet('drill', [INVENTORY, '--write-up', '--json'], { timeoutMs: 480_000 });
    process.stderr.write(result.stderr);
    const report = JSON.parse(result.stdout) as DrillReport;
    assert.ok(Array.isArray(report.steps), `drill exited ${result.code} without a report:\n${result.stdout}`);
    for (const s of report.steps) {
      const figure = s.fault === 'query' ? `query ${s.queryMs ?? 'none'} ms` : `outage ${s.outageMs} ms`;
      process.stderr.write(`# ${s.name}: ${figure}, two writers ${s.doubleWriterMs} ms, no writer ${s.noWriterMs} ms, writer ${s.writer}, tier IP on ${s.lbIpHolders?.join(' and ')}\n`);
    }
    process.stderr.write(`# writes acknowledged ${report.acked}, lost ${report.lost}, duplicated ${report.duplicated}; checksums ${report.checksumsEqual ? 'equal' : 'DIFFER'}; verify ${report.verifyPassed ? 'passed' : 'FAILED'}\n`);
    assert.equal(report.steps.length, 17);
    const queries = report.steps.filter((s) => s.fault === 'query');
    assert.deepEqual(queries.map((s) => s.name.split('.')[0]), ['1', '3', '6', '9', '11', '14', '17']);
    for (const s of queries) assert.ok(s.queryMs !== undefined && s.queryMs <= 7_000, `${s.name}: answered after ${s.queryMs} ms`);
    for (const s of report.steps) {
      assert.equal(s.doubleWriterMs, 0, `${s.name}: two writers`);
      assert.ok(s.writer !== undefined, `${s.name}: a writer`);
      assert.equal(s.lbIpHolders?.length, 1, `${s.name}: the tier's IP on one load balancer`);
    }
    assert.deepEqual(report.steps.find((s) => s.name === '8. shut down lb1')?.lbIpHolders, ['lb2']);
    assert.ok(report.acked > 500, `${report.acked} writes acknowledged`);
    assert.equal(report.lost, 0);
    assert.equal(report.duplicated, 0);
    assert.ok(report.checksumsEqual);
    assert.ok(report.verifyPassed, report.problems.join('\n'));
    assert.equal(result.code, report.passed ? 0 : 1, result.stderr);
    assert.ok(report.passed, `the drill's goals:\n${[...report.problems, ...report.steps.flatMap((s) => s.problems)].join('\n')}`);
  });

  it('refuses the write-up on a pair without load balancers', async () => {
    const result = await duet('drill', [join(REPO_ROOT, 'inventory/fixtures.yml'), '--write-up']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /has no load_balancers/);
  });
});

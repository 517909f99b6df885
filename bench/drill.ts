// The full failover drill on fresh fixture hosts (npm run drill): up, provision, every scenario with
// a client writing through the floating IP, then the figures. Prints them, asserts nothing; the exit
// code says whether every goal held. npx tsx bench/drill.ts [scenario ...]
// npx tsx bench/drill.ts --write-up: the write-up's 17 steps instead, on db1, db2, app1, lb1 and lb2
// provisioned by inventory/fixtures-lb.yml, the client writing through the load balancers' IP.
import { LB_HOST_SPECS } from '../src/fixtures/index.ts';
import { drill, formatDrill } from '../src/ops/drill/drill.ts';
import { FULL_DRILL } from '../src/ops/drill/scenarios.ts';
import { FIXTURE_LB_INVENTORY, provisionedFixturePair, withFixtureHosts } from './harness.ts';

const args = process.argv.slice(2);
const writeUp = args.includes('--write-up');
const scenarios = args.filter((a) => a !== '--write-up');
let passed = false;
await withFixtureHosts(async () => {
  const inv = await provisionedFixturePair(writeUp ? { inventory: FIXTURE_LB_INVENTORY, hosts: LB_HOST_SPECS } : {});
  const started = Date.now();
  const report = await drill(inv, { pair: inv.pairs[0]!, writeUp, scenarios: writeUp ? [] : scenarios.length > 0 ? scenarios : FULL_DRILL, log: (line) => console.error(line) });
  console.log(formatDrill(report));
  const steps = report.steps.map(({ name, outageMs, queryMs, doubleWriterMs, noWriterMs, noWriterAfterHealMs, writer, ipHolders, lbIpHolders }) => ({ name, outageMs, queryMs, doubleWriterMs, noWriterMs, noWriterAfterHealMs, writer, ipHolders, lbIpHolders }));
  console.log(JSON.stringify({ steps, acked: report.acked, lost: report.lost, duplicated: report.duplicated, checksumsEqual: report.checksumsEqual, verifyPassed: report.verifyPassed, passed: report.passed, drillSeconds: Math.round((Date.now() - started) / 1000) }));
  passed = report.passed;
});
process.exitCode = passed ? 0 : 1;

// The full failover drill on fresh fixture hosts (npm run drill): up, provision, every scenario with
// a client writing through the floating IP, then the figures. Prints them, asserts nothing; the exit
// code says whether every goal held. npx tsx bench/drill.ts [scenario ...]
import { drill, formatDrill } from '../src/ops/drill/drill.ts';
import { FULL_DRILL } from '../src/ops/drill/scenarios.ts';
import { provisionedFixturePair, withFixtureHosts } from './harness.ts';

const scenarios = process.argv.slice(2);
let passed = false;
await withFixtureHosts(async () => {
  const inv = await provisionedFixturePair();
  const report = await drill(inv, { pair: inv.pairs[0]!, scenarios: scenarios.length > 0 ? scenarios : FULL_DRILL, log: (line) => console.error(line) });
  console.log(formatDrill(report));
  console.log(JSON.stringify({ steps: report.steps.map(({ name, outageMs, doubleWriterMs, noWriterMs, noWriterAfterHealMs, writer }) => ({ name, outageMs, doubleWriterMs, noWriterMs, noWriterAfterHealMs, writer })), acked: report.acked, lost: report.lost, duplicated: report.duplicated, passed: report.passed }));
  passed = report.passed;
});
process.exitCode = passed ? 0 : 1;

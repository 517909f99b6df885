// Wall time of verify on the fixture pair, and the canary round trips it measures: one fresh set of
// hosts, provisioned once, then N runs in this process (the first one pays for module loading and
// the SSH handshakes like any CLI run). Prints figures, asserts nothing.
// npx tsx bench/verify.ts [runs]
import { DEFAULT_VERIFY_OPTIONS, exitCodeFor, verify } from '../src/ops/verify.ts';
import { provisionedFixturePair, summary, withFixtureHosts } from './harness.ts';

const runs = Number(process.argv[2] ?? 10);

await withFixtureHosts(async () => {
  const inv = await provisionedFixturePair();
  const wall: number[] = [];
  const canary = new Map<string, number[]>();
  for (let i = 0; i < runs; i++) {
    const report = await verify(inv, DEFAULT_VERIFY_OPTIONS);
    if (exitCodeFor(report) !== 0) throw new Error(`verify failed: ${JSON.stringify(report.findings.filter((f) => f.status === 'fail'))}`);
    wall.push(report.summary.elapsedMs);
    for (const [route, ms] of Object.entries(report.summary.canaryMs)) canary.set(route, [...(canary.get(route) ?? []), ms]);
  }
  console.log(summary('verify', wall, 'ms'));
  for (const [route, values] of canary) console.log(summary(`canary ${route}`, values, 'ms'));
});

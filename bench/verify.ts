// Wall time of verify on the fixture pair, and the canary round trips it measures: one fresh set of
// hosts, provisioned once, then N runs in this process (the first one pays for module loading and
// the SSH handshakes like any CLI run). Prints figures, asserts nothing.
// npx tsx bench/verify.ts [runs]
import { acquireHostLock, fixturesDown, fixturesUp, releaseHostLock } from '../src/fixtures/index.ts';
import { loadInventory } from '../src/inventory/load.ts';
import { provision } from '../src/ops/provision.ts';
import { exitCodeFor, verify } from '../src/ops/verify.ts';

const runs = Number(process.argv[2] ?? 10);
const inventoryPath = new URL('../inventory/fixtures.yml', import.meta.url).pathname;

function summary(label: string, values: number[], unit: string): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${label.padEnd(18)} median ${median} ${unit}  min ${sorted[0]} ${unit}  max ${sorted.at(-1)} ${unit}  (${values.join(', ')})`;
}

await acquireHostLock();
try {
  await fixturesUp();
  const inv = await loadInventory(inventoryPath);
  const provisioned = await provision(inv, { dryRun: false, confirm: async () => true, parallel: 1, log: () => {} });
  if (provisioned.summary.failed > 0) throw new Error(`provision failed: ${JSON.stringify(provisioned.pairs)}`);
  const wall: number[] = [];
  const canary = new Map<string, number[]>();
  for (let i = 0; i < runs; i++) {
    const report = await verify(inv, { pairs: [], maxLagSeconds: 30, timeoutMs: 5000, checksum: true });
    if (exitCodeFor(report) !== 0) throw new Error(`verify failed: ${JSON.stringify(report.findings.filter((f) => f.status === 'fail'))}`);
    wall.push(report.summary.elapsedMs);
    for (const [route, ms] of Object.entries(report.summary.canaryMs)) canary.set(route, [...(canary.get(route) ?? []), ms]);
  }
  console.log(summary('verify', wall, 'ms'));
  for (const [route, values] of canary) console.log(summary(`canary ${route}`, values, 'ms'));
} finally {
  await fixturesDown();
  releaseHostLock();
}

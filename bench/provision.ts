// Wall time of provision on the fixture pair: cold (bare hosts to a replicating pair with the
// floating IP) and no-op (a second run), over N fresh sets of hosts. Prints figures, asserts nothing.
// npx tsx bench/provision.ts [runs]
import { acquireHostLock, fixturesDown, fixturesUp, releaseHostLock } from '../src/fixtures/index.ts';
import { loadInventory } from '../src/inventory/load.ts';
import { provision } from '../src/ops/provision.ts';

const runs = Number(process.argv[2] ?? 3);
const inventoryPath = new URL('../inventory/fixtures.yml', import.meta.url).pathname;

async function timedProvision(): Promise<number> {
  const inv = await loadInventory(inventoryPath);
  const started = performance.now();
  const report = await provision(inv, { dryRun: false, confirm: async () => true, parallel: 1, log: () => {} });
  if (report.summary.failed > 0) throw new Error(`provision failed: ${JSON.stringify(report.pairs)}`);
  return (performance.now() - started) / 1000;
}

function summary(label: string, values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${label.padEnd(7)} median ${median.toFixed(2)} s  min ${sorted[0]!.toFixed(2)} s  max ${sorted.at(-1)!.toFixed(2)} s  (${values.map((v) => v.toFixed(2)).join(', ')})`;
}

await acquireHostLock();
try {
  const cold: number[] = [];
  const noop: number[] = [];
  for (let i = 0; i < runs; i++) {
    await fixturesUp();
    cold.push(await timedProvision());
    noop.push(await timedProvision());
  }
  console.log(summary('cold', cold));
  console.log(summary('no-op', noop));
  console.log('(cold includes Heartbeat taking the floating IP: initdead of the fixture inventory, 10 s)');
} finally {
  await fixturesDown();
  releaseHostLock();
}

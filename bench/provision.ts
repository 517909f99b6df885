// Wall time of provision on the fixture pair: cold (bare hosts to a replicating pair with the
// floating IP) and no-op (a second run), over N fresh sets of hosts. Prints figures, asserts nothing.
// npx tsx bench/provision.ts [runs]
import { loadInventory } from '../src/inventory/load.ts';
import { provision } from '../src/ops/provision.ts';
import { fixturesUp } from '../src/fixtures/index.ts';
import { FIXTURE_INVENTORY, summary, withFixtureHosts } from './harness.ts';

const runs = Number(process.argv[2] ?? 3);

async function timedProvision(): Promise<number> {
  const inv = await loadInventory(FIXTURE_INVENTORY);
  const started = performance.now();
  const report = await provision(inv, { dryRun: false, confirm: async () => true, parallel: 1, log: () => {} });
  if (report.summary.failed > 0) throw new Error(`provision failed: ${JSON.stringify(report.pairs)}`);
  return (performance.now() - started) / 1000;
}

await withFixtureHosts(async () => {
  const cold: number[] = [];
  const noop: number[] = [];
  for (let i = 0; i < runs; i++) {
    await fixturesUp();
    cold.push(await timedProvision());
    noop.push(await timedProvision());
  }
  console.log(summary('cold', cold, 's', 2));
  console.log(summary('no-op', noop, 's', 2));
  console.log('(cold includes Heartbeat taking the floating IP: initdead of the fixture inventory, 10 s)');
});

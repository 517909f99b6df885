// What every benchmark shares: a figure line, and the fixture hosts held under the machine-wide
// lock (an e2e run may be using them) and always torn down afterwards.
import { acquireHostLock, fixturesDown, fixturesUp, releaseHostLock } from '../src/fixtures/index.ts';
import type { Inventory } from '../src/inventory/model.ts';
import { loadInventory } from '../src/inventory/load.ts';
import { provision } from '../src/ops/provision.ts';

export const FIXTURE_INVENTORY = new URL('../inventory/fixtures.yml', import.meta.url).pathname;
/** The pair with its load-balanced tier; needs the hosts of LB_HOST_SPECS. */
export const FIXTURE_LB_INVENTORY = new URL('../inventory/fixtures-lb.yml', import.meta.url).pathname;

/** "label median X unit  min X unit  max X unit  (all values)" */
export function summary(label: string, values: number[], unit: string, digits = 0): string {
  const sorted = [...values].sort((a, b) => a - b);
  const show = (v: number) => `${v.toFixed(digits)} ${unit}`;
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${label.padEnd(18)} median ${show(median)}  min ${show(sorted[0]!)}  max ${show(sorted.at(-1)!)}  (${values.map((v) => v.toFixed(digits)).join(', ')})`;
}

/** Runs body with the fixture hosts reserved; they are torn down at the end whatever happens. */
export async function withFixtureHosts(body: () => Promise<void>): Promise<void> {
  await acquireHostLock();
  try {
    await fixturesDown(); // start from nothing, not from someone's leftovers
    await body();
  } finally {
    await fixturesDown();
    releaseHostLock();
  }
}

/** Fresh bare hosts (default db1, db2, app1), provisioned by an inventory (default the fixture pair); returns it. */
export async function provisionedFixturePair(options: { inventory?: string; hosts?: string } = {}): Promise<Inventory> {
  await fixturesUp({ hosts: options.hosts });
  const inv = await loadInventory(options.inventory ?? FIXTURE_INVENTORY);
  const report = await provision(inv, { dryRun: false, confirm: async () => true, parallel: 1, log: () => {} });
  if (report.summary.failed > 0) throw new Error(`provision failed: ${JSON.stringify(report.pairs)}`);
  return inv;
}

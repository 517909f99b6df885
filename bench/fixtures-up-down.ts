// Wall time of fixtures up and down (default hosts), over N runs. Prints figures, asserts nothing.
// npx tsx bench/fixtures-up-down.ts [runs]
import { acquireHostLock, fixturesDown, fixturesStatus, fixturesUp, releaseHostLock } from '../src/fixtures/index.ts';

const runs = Number(process.argv[2] ?? 3);

async function seconds(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return (performance.now() - started) / 1000;
}

function summary(label: string, values: number[]): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `${label.padEnd(5)} mean ${mean.toFixed(2)} s  min ${Math.min(...values).toFixed(2)} s  max ${Math.max(...values).toFixed(2)} s  (${values.map((v) => v.toFixed(2)).join(', ')})`;
}

await acquireHostLock(); // an e2e run may be using the hosts
await fixturesDown(); // start from nothing, not from someone's leftovers
const upTimes: number[] = [];
const downTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  upTimes.push(await seconds(() => fixturesUp()));
  if (i === runs - 1) {
    const { hosts } = await fixturesStatus();
    for (const host of hosts) {
      const pssMb = host.processes.reduce((sum, p) => sum + p.pssKb, 0) / 1024;
      console.log(`memory ${host.name.padEnd(6)} ${pssMb.toFixed(1)} MB PSS in ${host.processes.length} processes`);
    }
  }
  downTimes.push(await seconds(() => fixturesDown()));
}
console.log(summary('up', upTimes));
console.log(summary('down', downTimes));
releaseHostLock();

// Wall time of fixtures up and down (default hosts), over N runs, and memory per host.
// Prints figures, asserts nothing. npx tsx bench/fixtures-up-down.ts [runs]
import { fixturesDown, fixturesStatus, fixturesUp } from '../src/fixtures/index.ts';
import { summary, withFixtureHosts } from './harness.ts';

const runs = Number(process.argv[2] ?? 3);

async function seconds(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return (performance.now() - started) / 1000;
}

await withFixtureHosts(async () => {
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
  console.log(summary('up', upTimes, 's', 2));
  console.log(summary('down', downTimes, 's', 2));
});

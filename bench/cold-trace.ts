// Where a cold provision waits: N fresh fixture pairs, one cold `duet provision` (the bin, a fresh
// process) with every progress line stamped with the seconds since start, then the hosts' ha-log
// and MariaDB error logs kept in /tmp/duet-cold-trace-PID. Holds the fixture lock; tears down.
// npx tsx bench/cold-trace.ts [--pairs N]
import { spawn } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fixtureStateDir, fixturesUp, statePath } from '../src/fixtures/index.ts';
import { withFixtureHosts } from './harness.ts';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '1' } } });
const pairs = Number(values.pairs);
const BIN = new URL('../bin/duet.js', import.meta.url).pathname;

await withFixtureHosts(async () => {
  const state = await fixturesUp({ pairs, log: (l) => process.stderr.write(`up: ${l}\n`) });
  const inventory = statePath(state.stateDir, 'fleetInventory');
  const started = performance.now();
  const stamp = () => ((performance.now() - started) / 1000).toFixed(2).padStart(6);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'provision', inventory, '--yes', '--parallel', String(pairs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop()!;
        for (const line of lines) process.stdout.write(`${stamp()} ${line}\n`);
      });
    }
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  process.stdout.write(`${stamp()} exit ${code}\n`);
  const kept = `/tmp/duet-cold-trace-${process.pid}`;
  for (const host of readdirSync(statePath(fixtureStateDir(), 'hosts'))) {
    cpSync(join(statePath(fixtureStateDir(), 'hosts'), host, 'log'), join(kept, host), { recursive: true });
  }
  process.stdout.write(`logs in ${kept}\n`);
});

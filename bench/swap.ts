// Write-freeze time of swap on the fixture pair (read_only ON on the old writer to the target
// writable and holding the floating IP), over N swaps back and forth on one fresh, provisioned pair.
// Prints figures, asserts nothing. npx tsx bench/swap.ts [swaps] [grace seconds]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withConnections } from '../src/ops/status.ts';
import { swap } from '../src/ops/swap.ts';
import { provisionedFixturePair, summary, withFixtureHosts } from './harness.ts';

const swaps = Number(process.argv[2] ?? 10);
const graceSeconds = Number(process.argv[3] ?? 1);
const journalDir = mkdtempSync(join(tmpdir(), 'duet-bench-swap-'));

await withFixtureHosts(async () => {
  const inv = await provisionedFixturePair();
  const pair = inv.pairs[0]!;
  const freeze: number[] = [];
  const move: number[] = [];
  for (let i = 0; i < swaps; i++) {
    const result = await withConnections(inv, (conn) =>
      swap(inv, conn, {
        pair, target: undefined, dryRun: false, resume: false, force: false, maxLagSeconds: 5, graceMs: graceSeconds * 1000, timeoutSeconds: 30,
        journalPath: join(journalDir, 'main.jsonl'), log: () => {}, trace: () => {},
      }),
    );
    if (result.outcome !== 'swapped' || result.freeze_ms === undefined) throw new Error(`swap ${i + 1}: ${result.outcome}`);
    freeze.push(result.freeze_ms);
    move.push(result.steps.find((s) => s.step === 'move')!.ms);
    console.log(`swap ${i + 1}: ${result.from} -> ${result.to}, freeze ${result.freeze_ms} ms`);
  }
  console.log(summary(`freeze (grace ${graceSeconds} s)`, freeze, 'ms'));
  console.log(summary('  Heartbeat move', move, 'ms'));
});
rmSync(journalDir, { recursive: true, force: true });

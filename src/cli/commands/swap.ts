// swap: move the writable role and the floating IP to the other node of a pair, safely.
import { UsageError } from '../../errors.ts';
import { loadInventory } from '../../inventory/load.ts';
import { choosePair } from '../../inventory/select.ts';
import { formatPairStatus, withConnections } from '../../ops/status.ts';
import { swap as swapPair, type SwapReport } from '../../ops/swap.ts';
import { defaultJournalPath } from '../../ops/swap-journal.ts';
import { defineCommand, numberOption, startAudit } from '../command.ts';

function formatReport(r: SwapReport): string {
  const head =
    r.outcome === 'swapped'
      ? `swapped pair ${r.pair}: ${r.to} is the writer${r.freeze_ms === undefined ? '' : ` (writes frozen for ${r.freeze_ms} ms)`}`
      : r.outcome === 'already the writer'
        ? `${r.to} is already the writer of pair ${r.pair}`
        : r.outcome === 'rolled back'
          ? `swap of pair ${r.pair} rolled back: ${r.from} is the writer`
          : r.outcome === 'nothing to resume'
            ? `no unfinished swap of pair ${r.pair}`
            : `dry run: nothing was changed`;
  const critical = r.critical_path ? [`writes frozen through: ${r.critical_path.map((s) => `${s.step} ${s.ms} ms`).join(', ')}`] : [];
  const steps = r.steps.length > 0 ? [`steps: ${r.steps.map((s) => `${s.step} ${s.ms} ms`).join(', ')}`] : [];
  return [head, ...r.notes, ...critical, ...steps, '', formatPairStatus(r.status)].join('\n');
}

export const swap = defineCommand({
  name: 'swap',
  args: '<inventory> [node]',
  describe: 'make NODE the writer of its pair: freeze the old writer, wait until NODE has applied everything, make NODE writable and move the floating IP to it, then bring Heartbeat in line',
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .positional('node', { type: 'string', describe: 'the node that becomes the writer (default: the read-only node of the only pair)' })
      .option('pair', { type: 'string', describe: 'the pair, when the inventory has several and no node is named' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'run the pre-flight checks, then print every SQL statement and remote command in order; change nothing' })
      .option('resume', { type: 'boolean', default: false, describe: 'finish or roll back a swap that was interrupted (the journal says how far it got)' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe:
          'accept what is safe to force: the target lagging more than --max-lag (the freeze lasts until it caught up, at most --timeout), ' +
          "and the old writer's own replication (from the target) not running (the new writer's changes reach it once that is fixed). " +
          'Never forced: the target not replicating from the old writer, two writers, the floating IP elsewhere, Heartbeat down, differing binlog filters',
      })
      .option('max-lag', numberOption('max-lag', { min: 0, default: 5, describe: 'seconds the target may be behind at pre-flight' }))
      .option('grace', numberOption('grace', { min: 0, max: 600, default: 1, describe: 'seconds that statements running on the old writer when the freeze begins may take to finish before they are killed (writes wait meanwhile; idle connections are left alone)' }))
      .option('timeout', numberOption('timeout', { integer: true, min: 1, max: 86400, default: 30, describe: 'seconds to wait for the target to catch up, and for the floating IP to move' }))
      .option('journal', { type: 'string', describe: 'the journal file (default ~/.duet/journal/<cluster>/<pair>.jsonl)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (outcome, freeze_ms, critical_path, steps, status) on stdout' })
      .option('verbose', { type: 'boolean', default: false, describe: 'print every SQL statement and remote command on stderr as it runs' })
      .example('$0 inventory/fixtures.yml db2', 'make db2 the writer')
      .example('$0 inventory/fixtures.yml --dry-run', 'show what a swap would do')
      .example('$0 inventory/fixtures.yml --resume', 'after a crash of this command: end with one writer holding the floating IP')
      .epilogue(
        'Exit codes: 0 swapped (or nothing to do); 2 bad input; 3 SSH; 4 host not usable; 5 the swap failed after its first change and was rolled back ' +
          '(the message says so, or how to --resume); 6 refused by pre-flight or by the pre_swap hook, nothing changed. ' +
          'Hooks (inventory hooks.pre_swap / post_swap) run on this machine with DUET_PAIR, DUET_OLD_WRITER, DUET_NEW_WRITER and DUET_VIP set.',
      ),
  run: async (argv) => {
    if (argv.dryRun && argv.resume) throw new UsageError('--dry-run and --resume do not go together', { hint: 'status shows what --resume would start from' });
    const inv = await loadInventory(argv.inventory as string);
    const target = argv.node as string | undefined;
    const pair = choosePair(inv, target, argv.pair);
    if (!argv.dryRun) startAudit(inv, argv.resume ? 'swap --resume' : 'swap');
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const report = await withConnections(inv, (conn) =>
      swapPair(inv, conn, {
        pair,
        target,
        dryRun: argv.dryRun,
        resume: argv.resume,
        force: argv.force,
        maxLagSeconds: argv.maxLag,
        graceMs: Math.round(argv.grace * 1000),
        timeoutSeconds: argv.timeout,
        journalPath: argv.journal ?? defaultJournalPath(inv.cluster, pair.name),
        log,
        // The dry run's plan is its output; with --json it goes to stderr beside the progress.
        trace: argv.dryRun && !argv.json ? (line) => process.stdout.write(`${line}\n`) : argv.dryRun || argv.verbose ? log : () => {},
      }),
    );
    process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  },
});

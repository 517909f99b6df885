// status: each pair's writer first, then the read-only node, and loud warnings for what is wrong.
import { loadInventory } from '../../inventory/load.ts';
import { allWarnings, DEFAULT_STATUS_PARALLEL, DEFAULT_STATUS_TIMEOUT_MS, formatPairStatus, inventoryStatus, type PairStatus } from '../../ops/status.ts';
import { formatHistoryEntry, readAuditLog, roleHistory } from '../../audit.ts';
import { commaList, defineCommand, numberOption, traceWhen, verboseOption } from '../command.ts';

export const status = defineCommand({
  name: 'status',
  args: '<inventory>',
  describe: 'show every pair: the writable node first, then the read-only one, then its load balancers; warnings for two writers, none, or a misplaced floating IP',
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .option('pair', { type: 'string', array: true, describe: 'only these pairs (repeat or comma-separate)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
      .option('parallel', numberOption('parallel', { integer: true, min: 1, max: 64, default: DEFAULT_STATUS_PARALLEL, describe: 'pairs read at once (an unreachable node is reported after its SSH timeout; the other pairs go on)' }))
      .option('timeout', numberOption('timeout', { min: 1, max: 3600, default: DEFAULT_STATUS_TIMEOUT_MS / 1000, describe: 'seconds a node may take to answer before it is reported as unreachable' }))
      .option('verbose', verboseOption)
      .option(
        'history',
        numberOption('history', { integer: true, min: 0, max: 1000, default: 0, describe: "also show each pair's last N role changes from this machine's audit log (audit_log)" }),
      )
      .example('$0 inventory/fixtures.yml --history 3', 'the status, and the last three role changes (swap, readonly, provision) made from here')
      .example('$0 inventory/fixtures.yml', 'NODE: db1 has write IP, is writable, replication running, 0s delay, heartbeat running, epoch 1')
      .epilogue('Exit codes: 0 every pair healthy; 1 a warning was printed; 2 bad input; 3 SSH; 4 host not usable.'),
  run: async (argv) => {
    traceWhen(argv.verbose);
    const inv = await loadInventory(argv.inventory as string);
    const statuses = await inventoryStatus(inv, commaList(argv.pair), argv.parallel, argv.timeout * 1000);
    // --history: each pair's last role changes, from this machine's audit log.
    const entries = argv.history > 0 ? readAuditLog(inv.auditLog) : [];
    const history = (pair: string) => roleHistory(entries, [pair], argv.history);
    if (argv.json) {
      const documented = argv.history > 0 ? statuses.map((s) => ({ ...s, history: history(s.pair) })) : statuses;
      process.stdout.write(`${JSON.stringify({ pairs: documented }, null, 2)}\n`);
    } else {
      const text = (s: PairStatus) => {
        if (argv.history === 0) return formatPairStatus(s);
        const lines = history(s.pair).map((e) => `  ${formatHistoryEntry(e)}`);
        return [formatPairStatus(s), `last role changes (${inv.auditLog}):`, ...(lines.length > 0 ? lines : ['  none recorded'])].join('\n');
      };
      process.stdout.write(`${statuses.map(text).join('\n\n')}\n`);
    }
    return statuses.some((s) => allWarnings(s).length > 0) ? 1 : 0;
  },
});

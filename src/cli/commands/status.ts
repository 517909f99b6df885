// status: each pair's writer first, then the read-only node, and loud warnings for what is wrong.
import { UsageError } from '../../errors.ts';
import { loadInventory } from '../../inventory/load.ts';
import { allWarnings, formatPairStatus, inventoryStatus } from '../../ops/status.ts';
import { commaList, defineCommand, traceWhen, verboseOption } from '../command.ts';

export const status = defineCommand({
  name: 'status',
  args: '<inventory>',
  describe: 'show every pair: the writable node first, then the read-only one, then its load balancers; warnings for two writers, none, or a misplaced floating IP',
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .option('pair', { type: 'string', array: true, describe: 'only these pairs (repeat or comma-separate)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
      .option('verbose', verboseOption)
      .example('$0 inventory/fixtures.yml', 'NODE: db1 has write IP, is writable, replication running, 0s delay, heartbeat running, epoch 1')
      .epilogue('Exit codes: 0 every pair healthy; 1 a warning was printed; 2 bad input; 3 SSH; 4 host not usable.'),
  run: async (argv) => {
    traceWhen(argv.verbose);
    const inv = await loadInventory(argv.inventory as string);
    const pairs = commaList(argv.pair);
    const unknown = pairs.filter((p) => !inv.pairs.some((pair) => pair.name === p));
    if (unknown.length > 0) throw new UsageError(`no pair ${unknown.join(', ')} in the inventory`, { hint: `pairs: ${inv.pairs.map((p) => p.name).join(', ')}` });
    const statuses = await inventoryStatus(inv, pairs);
    process.stdout.write(argv.json ? `${JSON.stringify({ pairs: statuses }, null, 2)}\n` : `${statuses.map(formatPairStatus).join('\n\n')}\n`);
    return statuses.some((s) => allWarnings(s).length > 0) ? 1 : 0;
  },
});

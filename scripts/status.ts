// status: each pair's writer first, then the read-only node, and loud warnings for what is wrong.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runMain } from '../src/cli/main.ts';
import { UsageError } from '../src/errors.ts';
import { loadInventory } from '../src/inventory/load.ts';
import { formatPairStatus, inventoryStatus } from '../src/ops/status.ts';

runMain(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('status')
    .command('$0 <inventory>', 'show every pair: the writable node first, then the read-only one; warnings for two writers, none, or a misplaced floating IP', (y) =>
      y.positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' }),
    )
    .option('pair', { type: 'string', array: true, describe: 'only these pairs (repeat or comma-separate)' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
    .example('$0 inventory/fixtures.yml', 'NODE: db1 has write IP, is writable, replication running, 0s delay, heartbeat running, epoch 1')
    .epilogue('Exit codes: 0 every pair healthy; 1 a warning was printed; 2 bad input; 3 SSH; 4 host not usable.')
    .strict()
    .help()
    .parseAsync();

  const inv = await loadInventory(argv.inventory as string);
  const pairs = argv.pair?.flatMap((p) => p.split(',')).filter((p) => p !== '') ?? [];
  const unknown = pairs.filter((p) => !inv.pairs.some((pair) => pair.name === p));
  if (unknown.length > 0) throw new UsageError(`no pair ${unknown.join(', ')} in the inventory`, { hint: `pairs: ${inv.pairs.map((p) => p.name).join(', ')}` });
  const statuses = await inventoryStatus(inv, pairs);
  process.stdout.write(argv.json ? `${JSON.stringify({ pairs: statuses }, null, 2)}\n` : `${statuses.map(formatPairStatus).join('\n\n')}\n`);
  return statuses.some((s) => s.warnings.length > 0) ? 1 : 0;
});

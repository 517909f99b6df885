// provision: take the hosts of an inventory to running master-master pairs, idempotently.
import { loadInventory } from '../../inventory/load.ts';
import { provision as provisionInventory } from '../../ops/provision.ts';
import { commaList, defineCommand, numberOption, startAudit, traceWhen, verboseOption } from '../command.ts';
import { confirmer } from '../prompt.ts';
import { formatOutcome, formatPlan } from '../provision-report.ts';

export const provision = defineCommand({
  name: 'provision',
  args: '<inventory>',
  describe: 'configure every node of the inventory: files, services, users, replication both ways, roles, Heartbeat; plans all of it first (file diffs, service repairs, pair actions)',
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'show the plan (file diffs, services to repair, pair actions; secrets redacted) and change nothing' })
      .option('yes', { type: 'boolean', alias: 'y', default: false, describe: 'apply without asking (required when no terminal is attached)' })
      .option('limit', { type: 'string', array: true, describe: 'only these nodes or load balancers (repeat or comma-separate); replication needs both nodes of a pair' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (host changes and repairs, pair actions planned and done, summary) on stdout; progress goes to stderr' })
      .option('parallel', numberOption('parallel', { integer: true, min: 1, max: 64, default: 4, describe: 'pairs provisioned at once (the two nodes of a serving pair go one after the other; of a pair being set up, at once)' }))
      .option('verbose', verboseOption)
      .example('$0 inventory/fixtures.yml --dry-run', 'show what would change')
      .example('$0 inventory/fixtures.yml --yes', 'apply without asking')
      .epilogue(
        'Exit codes: 0 nothing failed; 1 a host or pair failed (see the report); 2 bad input; 3 SSH; 4 host not usable; ' +
          '5 a change failed outside a host\'s own report; 6 refused at the plan, nothing changed (both nodes of a new pair hold differing data, an account with more privileges than duet grants).',
      ),
  run: async (argv) => {
    traceWhen(argv.verbose);
    const inv = await loadInventory(argv.inventory as string);
    if (!argv.dryRun) startAudit(inv, 'provision');
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const report = await provisionInventory(inv, {
      dryRun: argv.dryRun,
      limit: commaList(argv.limit),
      parallel: argv.parallel,
      log,
      confirm: confirmer(argv.yes),
      onPlan: (planned) => {
        if (!argv.json) process.stdout.write(`${formatPlan(planned)}\n`);
      },
    });
    process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatOutcome(report)}\n`);
    return report.summary.failed > 0 ? 1 : 0;
  },
});

// verify: prove that every pair of an inventory replicates both ways, and say what is wrong if not.
import { loadInventory } from '../../inventory/load.ts';
import { DEFAULT_VERIFY_OPTIONS, exitCodeFor, formatReport, verify as verifyInventory } from '../../ops/verify.ts';
import { commaList, defineCommand, numberOption, traceWhen, verboseOption } from '../command.ts';

export const verify = defineCommand({
  name: 'verify',
  args: '<inventory>',
  describe: 'check every pair: replication both ways, a canary row each way, server settings, data checksums, roles and floating IP, firewall, drift',
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (every finding with its figures, and a summary)' })
      .option('pair', { type: 'string', array: true, describe: 'only these pairs (repeat or comma-separate)' })
      .option('max-lag', numberOption('max-lag', { min: 0, default: DEFAULT_VERIFY_OPTIONS.maxLagSeconds, describe: 'seconds a replica may be behind before it fails' }))
      .option('timeout', numberOption('timeout', { min: 1, max: 3600, default: DEFAULT_VERIFY_OPTIONS.timeoutMs / 1000, describe: 'seconds a canary row, a TCP probe or a catch-up wait may take' }))
      .option('checksum', { type: 'boolean', default: DEFAULT_VERIFY_OPTIONS.checksum, describe: 'compare CHECKSUM TABLE of the replicated tables (reads every row; --no-checksum skips it)' })
      .option('parallel', numberOption('parallel', { integer: true, min: 1, max: 64, default: DEFAULT_VERIFY_OPTIONS.parallel, describe: 'pairs verified at once (a slow or unreachable pair holds one of these for its timeout, not the others)' }))
      .option('verbose', verboseOption)
      .example('$0 inventory/fixtures.yml', 'verify the fixture pair')
      .example('$0 inventory/shop.yml --json --no-checksum', 'machine-readable, without reading every table')
      .epilogue(
        'Exit codes: 0 every check passed (warnings allowed); 1 a check failed; 2 bad input; 3 a host could not be reached over SSH ' +
          '(verify still reports every pair it reached); 4 host not usable.',
      ),
  run: async (argv) => {
    traceWhen(argv.verbose);
    const inv = await loadInventory(argv.inventory as string);
    const report = await verifyInventory(inv, {
      pairs: commaList(argv.pair),
      maxLagSeconds: argv.maxLag,
      timeoutMs: argv.timeout * 1000,
      checksum: argv.checksum,
      parallel: argv.parallel,
    });
    process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    return exitCodeFor(report);
  },
});

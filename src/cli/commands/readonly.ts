// readonly on|off NODE: set a node's read_only by hand, refusing a second writer unless --force.
import { loadInventory } from '../../inventory/load.ts';
import { changeNode, makeReadOnly, makeWritable } from '../../ops/roles.ts';
import { defineCommand, startAudit, traceWhen, verboseOption } from '../command.ts';

export const readonly = defineCommand({
  name: 'readonly',
  args: '<inventory> <state> <node>',
  describe: "turn a node's read_only on or off, then show the pair's status",
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .positional('state', { choices: ['on', 'off'] as const, demandOption: true, describe: 'on: read-only; off: writable' })
      .positional('node', { type: 'string', demandOption: true, describe: 'node name' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'off only: make the node writable even when its peer is writable too (two writers) or holds the floating IP',
      })
      .option('verbose', verboseOption)
      .example('$0 inventory/fixtures.yml on db1', 'stop writes on db1 (maintenance); READ ONLY ADMIN accounts are named, they can still write')
      .example('$0 inventory/fixtures.yml off db1', 'make db1 the writer again (refused while db2 is writable)')
      .epilogue('Exit codes: 0 done; 2 bad input; 3 SSH; 4 host not usable; 5 the change failed part-way (the message says what); 6 refused (two writers, or the floating IP elsewhere), nothing changed.'),
  run: async (argv) => {
    traceWhen(argv.verbose);
    const inv = await loadInventory(argv.inventory as string);
    startAudit(inv, `readonly ${argv.state}`);
    const report = await changeNode(inv, argv.node as string, async (conn, pair, node) =>
      argv.state === 'off' ? [await makeWritable(conn, pair, node, argv.force)] : makeReadOnly(conn, inv, pair, node),
    );
    process.stdout.write(`${report}\n`);
  },
});

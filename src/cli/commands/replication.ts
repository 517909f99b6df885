// replication start|stop NODE: the replica threads of one node (it replicates from its peer).
import { loadInventory } from '../../inventory/load.ts';
import { changeNode, setReplication } from '../../ops/roles.ts';
import { defineCommand, startAudit, traceWhen, verboseOption } from '../command.ts';

export const replication = defineCommand({
  name: 'replication',
  args: '<inventory> <action> <node>',
  describe: "start or stop a node's replication from its peer, then show the pair's status",
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .positional('action', { choices: ['start', 'stop'] as const, demandOption: true })
      .positional('node', { type: 'string', demandOption: true, describe: "the replica: the node that applies its peer's changes" })
      .option('verbose', verboseOption)
      .example('$0 inventory/fixtures.yml start db2', 'start both replica threads on db2 and wait until they run (errors are reported)')
      .epilogue(
        "Exit codes: 0 done; 2 bad input; 3 SSH; 4 host not usable; 5 replication was started but does not run (the server's error is shown); " +
          '6 the node is not configured as a replica (run provision), nothing changed.',
      ),
  run: async (argv) => {
    traceWhen(argv.verbose);
    const inv = await loadInventory(argv.inventory as string);
    startAudit(inv, `replication ${argv.action}`);
    const report = await changeNode(inv, argv.node as string, async (conn, pair, node) => [await setReplication(conn, pair, node, argv.action === 'start')]);
    process.stdout.write(`${report}\n`);
  },
});

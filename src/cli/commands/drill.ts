// drill INVENTORY: the failover drill (src/ops/drill): faults under a writing client, timed.
import { UsageError } from '../../errors.ts';
import { loadInventory } from '../../inventory/load.ts';
import { drill, fixturesOf, formatDrill } from '../../ops/drill/drill.ts';
import { FULL_DRILL, OPERATOR_DRILL, SCENARIOS, WRITE_UP } from '../../ops/drill/scenarios.ts';
import { commaList, defineCommand, traceWhen, verboseOption } from '../command.ts';
import { choosePair } from '../../inventory/select.ts';

export const drillCommand = defineCommand({
  name: 'drill',
  args: '<inventory>',
  describe: "the failover drill: faults on the pair while a client writes through the floating IP (the load balancers' when the pair has them); outage, two-writer and no-writer times per fault; every write checked at the end",
  builder: (y) =>
    y
      .positional('inventory', { type: 'string', demandOption: true, describe: 'inventory YAML file' })
      .option('pair', { type: 'string', describe: 'the pair, when the inventory has several' })
      .option('scenario', {
        type: 'string',
        array: true,
        describe: `scenarios in order (repeat or comma-separate); default: all on the fixture hosts, ${OPERATOR_DRILL.join(' and ')} elsewhere. ${SCENARIOS.map((s) => `${s.name}: ${s.what}`).join('; ')}; ${WRITE_UP}: as --write-up`,
      })
      .option('write-up', {
        type: 'boolean',
        default: false,
        describe: "the write-up's 17-step test instead (shut down and start db nodes and a load balancer, a query through the tier after each shut down); fixture hosts and load_balancers only",
      })
      .option('confirm', { type: 'string', describe: 'real hosts only: the pair name, to confirm that the drill may stop Heartbeat and MariaDB on its writer' })
      .option('client-address', { type: 'string', describe: 'real hosts only: the address the nodes see this machine connect from (the drill client runs here)' })
      .option('fresh-keys', {
        type: 'boolean',
        default: false,
        describe:
          "the client takes a new key after an error instead of retrying the same one (by default it retries, like an application with idempotency keys: on MariaDB a write the old writer had not heard acknowledged when it was cut off is rolled back when its server restarts, so the retry does not collide with it; on MySQL it can, see README, what a two-node pair cannot promise)",
      })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
      .option('verbose', verboseOption)
      .example('$0 inventory/fixtures.yml', 'every scenario on the fixture pair')
      .example('$0 inventory/fixtures.yml --scenario crash-writer,partition-writer', 'two of them')
      .example('$0 inventory/fixtures-lb.yml --write-up', "the write-up's 17 steps through the load balancers (fixtures up --hosts db1,db2,app1,lb1:21,lb2:22)")
      .example('$0 prod.yml --confirm main --client-address 192.0.2.50', 'on real hosts: stop-heartbeat and stop-mysql only')
      .epilogue(
        'On the fixture hosts every scenario runs; on real hosts only what an operator can do (stop and start Heartbeat and MariaDB), after --confirm PAIR. ' +
          'Exit codes: 0 every goal held; 1 a goal was missed (the report says which); 2 bad input; 3 SSH; 5 the pair did not come back healthy.',
      ),
  run: async (argv) => {
    traceWhen(argv.verbose);
    const inv = await loadInventory(argv.inventory as string);
    const pair = choosePair(inv, undefined, argv.pair);
    const onFixtures = fixturesOf(pair) !== undefined;
    if (!onFixtures && argv.confirm !== pair.name) {
      throw new UsageError(`the drill stops Heartbeat and MariaDB on the writer of pair ${pair.name}: confirm with --confirm ${pair.name}`, {
        hint: 'clients see outages of up to deadtime + 2 s while it runs',
      });
    }
    const scenarios = commaList(argv.scenario);
    const writeUp = argv.writeUp === true || scenarios.includes(WRITE_UP);
    const report = await drill(inv, {
      pair,
      writeUp,
      scenarios: scenarios.length > 0 || writeUp ? scenarios : onFixtures ? FULL_DRILL : OPERATOR_DRILL,
      clientAddress: argv.clientAddress,
      freshKeys: argv.freshKeys,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDrill(report)}\n`);
    return report.passed ? 0 : 1;
  },
});

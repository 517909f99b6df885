// npm run demo: the main job on the built-in fixture hosts. Brings up three fake hosts (db1, db2,
// app1), provisions the master-master pair of inventory/fixtures.yml, verifies it, and shows what
// to look at.
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCommand } from '../src/cli/command.ts';
import { runScript } from '../src/cli/entry.ts';
import { formatOutcome } from '../src/cli/provision-report.ts';
import { acquireHostLock, fixturesUp, releaseHostLock, statePath } from '../src/fixtures/index.ts';
import { loadInventory } from '../src/inventory/load.ts';
import { provision } from '../src/ops/provision.ts';
import { DEFAULT_VERIFY_OPTIONS, exitCodeFor, formatReport, verify } from '../src/ops/verify.ts';

const INVENTORY = join(fileURLToPath(new URL('..', import.meta.url)), 'inventory/fixtures.yml');

// Not a `duet` subcommand: the demo is for this repository's fixture hosts only.
runScript(
  defineCommand({
    name: 'demo',
    args: '',
    describe: 'the main job on the built-in fixture hosts',
    builder: (y) =>
      y.usage(
        'npm run demo\n\nAs root: build the fixture hosts db1, db2 and app1 (removing an earlier set), provision the pair of inventory/fixtures.yml on them, verify it, and show what to look at. The hosts stay up: npx tsx scripts/fixtures.ts down',
      ),
    run: async () => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      // Waits while an e2e run uses the hosts (up would tear them down under it), and keeps them from
      // being torn down under the demo until it has provisioned them.
      await acquireHostLock();
      try {
        return await demo(log);
      } finally {
        releaseHostLock();
      }
    },
  }),
);

async function demo(log: (line: string) => void): Promise<number> {
  const state = await fixturesUp({ log: (line) => log(`fixtures: ${line}`) });
  const inventory = relative(process.cwd(), INVENTORY);

  log(`\nprovision ${inventory}: files, services, users, replication both ways, roles, Heartbeat`);
  const started = Date.now();
  const report = await provision(await loadInventory(INVENTORY), { dryRun: false, confirm: async () => true, parallel: 1, log });
  process.stdout.write(`${formatOutcome(report)}\n(provisioned in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  if (report.summary.failed > 0) return 1;

  log(`\nverify ${inventory}: replication both ways, canary rows, settings, checksums, roles, firewall, drift`);
  const verified = await verify(await loadInventory(INVENTORY), DEFAULT_VERIFY_OPTIONS);
  process.stdout.write(`${formatReport(verified)}\n`);

  const sshConfig = relative(process.cwd(), statePath(state.stateDir, 'sshConfig'));
  const lines = [
    '',
    'Hosts:',
    ...state.hosts.map((h) => `  ${h.name.padEnd(6)} ${h.address.padEnd(13)} ${h.mariadbServer ? 'MariaDB server' : 'client only'}`),
    `  floating IP ${state.vip} (held by the writer, db1)`,
    '',
    'Look at:',
    `  npx tsx scripts/provision.ts ${inventory} --dry-run     # a second run: nothing to change`,
    `  npx tsx scripts/verify.ts ${inventory}                  # run it after every change`,
    `  npx tsx scripts/status.ts ${inventory}                  # the writer first`,
    `  npx tsx scripts/swap.ts ${inventory} db2                # move the writable role and the floating IP`,
    `  ssh -F ${sshConfig} db1 "mariadb -e 'SHOW SLAVE STATUS\\G'"`,
    `  ssh -F ${sshConfig} db2 cat /etc/mysql/mariadb.conf.d/60-duet.cnf`,
    `  ssh -F ${sshConfig} app1 "timeout 2 bash -c '</dev/tcp/${state.vip}/3306' && echo open"   # app1 reaches MySQL on the floating IP only`,
    '  npx tsx scripts/fixtures.ts down                               # tear the hosts down',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  return exitCodeFor(verified);
}

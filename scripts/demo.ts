// npm run demo: bring up the fixture hosts and show how to reach them.
// (Provisioning and verification of the pair get added here as those parts land.)
import { relative } from 'node:path';
import { runMain } from '../src/cli/main.ts';
import { fixturesUp, statePath } from '../src/fixtures/index.ts';

runMain(async () => {
  const state = await fixturesUp({ log: (line) => process.stderr.write(`fixtures: ${line}\n`) });
  const sshConfig = relative(process.cwd(), statePath(state.stateDir, 'sshConfig'));
  const lines = [
    '',
    'Fixture hosts (bare: sshd, stock MariaDB on db hosts, Heartbeat installed but not configured):',
    ...state.hosts.map((h) => `  ${h.name.padEnd(6)} ${h.address.padEnd(13)} ${h.mariadbServer ? 'MariaDB server' : 'client only'}`),
    `  floating IP reserved: ${state.vip}`,
    '',
    `Log in:     ssh -F ${sshConfig} ${state.hosts[0]?.name ?? 'db1'}`,
    'Status:     npx tsx scripts/fixtures.ts status',
    'Tear down:  npx tsx scripts/fixtures.ts down',
    '',
  ];
  process.stdout.write(lines.join('\n'));
});

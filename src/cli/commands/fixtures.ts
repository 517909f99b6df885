// fixtures up|down|status|exec HOST -- CMD...|crash|boot|partition|heal|kill HOST: the built-in test hosts and faults on them.
import { spawn } from 'node:child_process';
import { FixtureError } from '../../errors.ts';
import {
  bootHost,
  crashHost,
  DEFAULT_HOST_SPECS,
  fixtureExecArgv,
  fixturesDown,
  fixturesStatus,
  fixturesUp,
  healHost,
  killDaemon,
  MAX_FLEET_PAIRS,
  partitionHost,
  statePath,
  type FixtureStatus,
} from '../../fixtures/index.ts';
import { defineCommand, describeRule, parseNumberOption } from '../command.ts';

const started = performance.now();
const log = (line: string) => process.stderr.write(`fixtures [${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`);

function formatStatus({ state, hosts, vips }: FixtureStatus): string {
  const lines = hosts.map((host) => {
    const head = `${host.name.padEnd(6)} ${host.address.padEnd(13)} anchor ${host.anchorPid ?? '-'}`;
    if (!host.running) return `${head}  NOT RUNNING`;
    const pssMb = host.processes.reduce((sum, p) => sum + p.pssKb, 0) / 1024;
    const daemons = [...new Set(host.processes.map((p) => p.command))].sort().join(' ');
    return `${head}  ${pssMb.toFixed(0)} MB PSS  ${daemons || '(no daemons)'}`;
  });
  for (const { address, holders } of vips) lines.push(`floating IP ${address}: ${holders.length === 0 ? 'not held' : holders.join(' and ')}`);
  const totalMb = hosts.flatMap((host) => host.processes).reduce((sum, p) => sum + p.pssKb, 0) / 1024;
  lines.push(`total ${totalMb.toFixed(0)} MB PSS in ${hosts.length} hosts${state.vips ? ` (${state.vips.length} pairs, inventory ${statePath(state.stateDir, 'fleetInventory')})` : ''}`);
  return lines.join('\n');
}

/** Runs CMD in the host with this terminal's stdin/stdout/stderr and returns its exit code. */
function execInteractive(host: string, command: string[]): Promise<number> {
  const [file, ...args] = fixtureExecArgv(host, command);
  return new Promise((resolve, reject) => {
    const child = spawn(file ?? 'nsenter', args, { stdio: 'inherit' });
    child.on('error', (err) => reject(new FixtureError(`cannot run nsenter: ${err.message}`, { host })));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const PAIRS_RULE = { integer: true, min: 1, max: MAX_FLEET_PAIRS };

const ACTIONS = ['up', 'down', 'status', 'exec', 'crash', 'boot', 'partition', 'heal', 'kill'] as const;

export const fixtures = defineCommand({
  name: 'fixtures',
  args: '',
  describe: 'the built-in test hosts: fake hosts in Linux namespaces (real sshd, MariaDB, iptables, Heartbeat) on 198.18.0.0/24',
  builder: (y) =>
    y
      .command('up', 'remove leftovers, then build fresh bare hosts', (c) =>
        c
          .option('hosts', { type: 'string', describe: `name[:lastOctet],... (app*/lb* hosts get no MariaDB server; default ${DEFAULT_HOST_SPECS})` })
          .option('pairs', {
            requiresArg: true,
            describe: `build N pairs (db1..db2N, app1, a floating IP each) and their inventory in the state folder (fleet.yml); instead of --hosts (${describeRule(PAIRS_RULE)})`,
            coerce: (value: unknown) => parseNumberOption('pairs', value, PAIRS_RULE),
          })
          .conflicts('pairs', 'hosts'),
      )
      .command('down', 'end every host and remove namespaces, bridge and state (safe to repeat)')
      .command('status', 'hosts, anchor PIDs, daemons, memory, floating IP holder')
      .command('exec <host> [command..]', 'run a command inside a host (all its namespaces, clean env)', (c) =>
        c
          .positional('host', { type: 'string', demandOption: true })
          .positional('command', { type: 'string', array: true, describe: 'after --; default: an interactive shell' }),
      )
      .command('crash <host>', 'power cut: the link goes down and every process of the host is killed at once', (c) => c.positional('host', { type: 'string', demandOption: true }))
      .command('boot <host>', "power on after a crash: addresses, firewall and /run reset as by a reboot, duet's boot hook restores the rules, link up, sshd, MariaDB and Heartbeat start", (c) =>
        c.positional('host', { type: 'string', demandOption: true }),
      )
      .command('partition <host>', "the host's link down; its processes keep running", (c) => c.positional('host', { type: 'string', demandOption: true }))
      .command('heal <host>', "the host's link up again", (c) => c.positional('host', { type: 'string', demandOption: true }))
      .command('kill <host> <process>', 'SIGKILL every process of that name inside the host (mariadbd, heartbeat, ...)', (c) =>
        c.positional('host', { type: 'string', demandOption: true }).positional('process', { type: 'string', demandOption: true }),
      )
      .example('$0 up --hosts db1,db2,app1', '')
      .example('$0 up --pairs 5', 'five pairs (db1..db10, app1) and .fixtures/fleet.yml to provision them')
      .example('$0 crash db1 && sleep 10 && $0 boot db1', 'a power cut of db1, then power on')
      .example('$0 exec db1 -- ss -ltn', '')
      .example('ssh -F .fixtures/ssh_config db1', 'log into a host with the real ssh client')
      .parserConfiguration({ 'parse-numbers': false, 'populate--': true })
      .demandCommand(1, `give a command: ${ACTIONS.join(', ')}`)
      .epilogue('State: $DUET_FX_DIR or <repo>/.fixtures. Faults act on one host each and are safe to repeat. Exit codes: 0 done (exec: the command\'s own); 2 bad usage; 7 the hosts could not be built or reached.'),
  run: async (argv) => {
    // The action is the last command word: `fixtures up` (script) or `duet fixtures up`.
    const action = argv._.map(String).filter((word) => (ACTIONS as readonly string[]).includes(word)).at(-1);
    switch (action) {
      case 'up': {
        const pairs = argv.pairs as number | undefined;
        const state = await fixturesUp({ hosts: argv.hosts as string | undefined, ...(pairs ? { pairs } : {}), log });
        log(`up; log in with: ssh -F ${statePath(state.stateDir, 'sshConfig')} ${state.hosts[0]?.name ?? ''}`);
        if (pairs) log(`inventory of the ${pairs} pair(s): ${statePath(state.stateDir, 'fleetInventory')}`);
        return;
      }
      case 'down':
        log(`down: ${(await fixturesDown()).summary}`);
        return;
      case 'status':
        process.stdout.write(`${formatStatus(await fixturesStatus())}\n`);
        return;
      case 'crash':
      case 'boot':
      case 'partition':
      case 'heal':
      case 'kill': {
        const host = argv.host as string;
        const result =
          action === 'crash' ? await crashHost(host)
          : action === 'boot' ? await bootHost(host)
          : action === 'partition' ? await partitionHost(host)
          : action === 'heal' ? await healHost(host)
          : await killDaemon(host, argv.process as string);
        log(`${result.host}: ${result.verb}: ${result.summary}`);
        return;
      }
      case 'exec': {
        const command = [...((argv.command as string[] | undefined) ?? []), ...((argv['--'] as string[] | undefined) ?? [])];
        return execInteractive(argv.host as string, command.length > 0 ? command.map(String) : ['bash', '-l']);
      }
    }
  },
});

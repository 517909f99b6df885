// e2e harness: each test file gets a fresh set of bare fixture hosts, and gives them back even when
// the run is aborted. node's test runner runs every e2e file in its own process, one at a time.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import {
  fixtureExec,
  fixturesDown,
  fixturesUp,
  fixtureStateDir,
  requireState,
  statePath,
  type CommandResult,
  type ExecOptions,
  type FixtureState,
} from '../../../src/fixtures/index.ts';
import { run } from '../../../src/fixtures/run.ts';
import { acquireHostLock, releaseHostLock } from '../../../src/fixtures/lock.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UP_TIMEOUT_MS = 120_000;
const LOCK_WAIT_MS = 20 * 60_000;
const DOWN_TIMEOUT_MS = 60_000;

export interface FixtureHandle {
  readonly stateDir: string;
  /** For the real client: `ssh -F <sshConfigPath> db1`. */
  readonly sshConfigPath: string;
  /** What up built (read from state.json; only valid once the before hook has run). */
  state(): FixtureState;
  address(hostName: string): string;
  /** Runs argv inside the host directly (nsenter), bypassing ssh. */
  exec(hostName: string, argv: readonly string[], options?: Omit<ExecOptions, 'stateDir'>): Promise<CommandResult>;
  /**
   * Runs argv on this machine's filesystem but in the host's network namespace: its traffic comes
   * from the host's address. For programs of this checkout (a test client), which a host cannot see
   * when the checkout lies under /tmp or /root (private in each host).
   */
  fromNetworkOf(hostName: string, argv: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<CommandResult>;
  /** Runs a shell command on the host through the real ssh client and the fixture ssh_config. */
  ssh(hostName: string, command: string, options?: { input?: string; sshOptions?: string[]; timeoutMs?: number }): Promise<CommandResult>;
}

export interface UseFixturesOptions {
  /** Same syntax as `fixtures.ts up --hosts`; default db1, db2, app1. */
  hosts?: string;
}

/** Registers before (fresh up, which also removes leftovers) and after (down) hooks for this file. */
export function useFixtures(options: UseFixturesOptions = {}): FixtureHandle {
  const stateDir = fixtureStateDir();
  before(async () => {
    await acquireHostLock();
    guardAgainstAbort(stateDir);
    await fixturesUp({ hosts: options.hosts, stateDir });
  }, { timeout: LOCK_WAIT_MS + UP_TIMEOUT_MS });
  after(async () => {
    try {
      await fixturesDown({ stateDir });
      fixturesMayBeUp = false;
    } finally {
      releaseHostLock();
    }
  }, { timeout: DOWN_TIMEOUT_MS });

  const state = () => requireState(stateDir);
  return {
    stateDir,
    sshConfigPath: statePath(stateDir, 'sshConfig'),
    state,
    address(hostName) {
      const host = state().hosts.find((h) => h.name === hostName);
      if (!host) throw new Error(`no fixture host ${hostName}`);
      return host.address;
    },
    exec: (hostName, argv, execOptions = {}) => fixtureExec(hostName, argv, { ...execOptions, stateDir }),
    fromNetworkOf(hostName, argv, runOptions = {}) {
      const host = state().hosts.find((h) => h.name === hostName);
      if (!host) throw new Error(`no fixture host ${hostName}`);
      return run(['ip', 'netns', 'exec', host.netns, ...argv], { input: runOptions.input, timeoutMs: runOptions.timeoutMs ?? 30_000, host: hostName });
    },
    ssh: (hostName, command, sshOptions = {}) =>
      run(['ssh', '-F', statePath(stateDir, 'sshConfig'), ...(sshOptions.sshOptions ?? []), hostName, command], {
        input: sshOptions.input,
        timeoutMs: sshOptions.timeoutMs ?? 30_000,
        host: hostName,
      }),
  };
}

let fixturesMayBeUp = false;
let guardInstalled = false;

/**
 * An interrupted run (Ctrl-C, the runner's SIGTERM on timeout, a crash outside a test) skips the
 * after hook. 'exit' handlers cannot await, so the guard runs `fixtures.ts down` synchronously.
 * The next up would clean the leftovers too, but hosts should not outlive the run that made them.
 */
function guardAgainstAbort(stateDir: string): void {
  fixturesMayBeUp = true;
  if (guardInstalled) return;
  guardInstalled = true;
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  process.on('exit', () => {
    if (fixturesMayBeUp) {
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/fixtures.ts', 'down'], {
        cwd: REPO_ROOT,
        env: { ...process.env, DUET_FX_DIR: stateDir },
        stdio: 'inherit',
        timeout: DOWN_TIMEOUT_MS,
      });
    }
    releaseHostLock();
  });
}

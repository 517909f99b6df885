// Fleet figures: N fixture pairs (`fixtures up --pairs N`), then, as a user runs them (the package's
// bin in a fresh process each), cold provision, no-op provision, verify and status over all pairs,
// and the CPUs the idle fleet keeps busy (its own daemons).
// One JSON line per measurement on stdout: {"pairs":N,"measure":"cold","seconds":...}; plus the
// controller's peak RSS per command and the hosts' memory (PSS), and the floor under every command
// (ssh-floor: one SSH login per node running `true`). Asserts nothing but exit codes.
// `bin` says whether the bin ran dist/ (npm run build, current) or the TypeScript through tsx.
// npx tsx bench/fleet.ts --pairs N[,N...] [--runs R] [--parallel P] [--max-minutes M] [--profile DIR]
// (several sizes one after the other under one hold of the fixture lock: --pairs 1,5,20)
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fixtureStateDir, fixturesDown, fixturesStatus, fixturesUp, releaseHostLock, statePath } from '../src/fixtures/index.ts';
import { packagePath } from '../src/paths.ts';
// @ts-expect-error plain JavaScript, read by the bin before tsx
import { bundleIsCurrent } from '../bin/bundle-current.js';
import { withFixtureHosts } from './harness.ts';

const { values } = parseArgs({
  options: { pairs: { type: 'string', default: '1' }, runs: { type: 'string', default: '1' }, parallel: { type: 'string' }, 'max-minutes': { type: 'string', default: '9' }, profile: { type: 'string' } },
});
const sizes = values.pairs.split(',').map(Number);
let pairs = sizes[0]!;
const runs = Number(values.runs);
const BIN = new URL('../bin/duet.js', import.meta.url).pathname;
const TIME = '/usr/bin/time';
/** How long the idle fleet's CPU use is sampled. */
const IDLE_SECONDS = 10;

const emit = (record: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ pairs, ...record })}\n`);
const progress = (line: string) => process.stderr.write(`fleet bench: ${line}\n`);

/** Runs `duet ARGS` as a command; wall seconds, peak RSS (MB, from /usr/bin/time) and the exit code. */
async function duet(args: string[], env: NodeJS.ProcessEnv = process.env, nodeFlags: string[] = []): Promise<{ seconds: number; rssMb: number | undefined; code: number; output: string }> {
  const rssFile = join(tmpdir(), `duet-fleet-rss-${process.pid}`);
  const argv = existsSync(TIME) ? [TIME, '-f', '%M', '-o', rssFile, process.execPath, ...nodeFlags, BIN, ...args] : [process.execPath, ...nodeFlags, BIN, ...args];
  const started = performance.now();
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exit) => resolve({ code: exit ?? 1, output }));
  });
  const seconds = (performance.now() - started) / 1000;
  let rssMb: number | undefined;
  if (existsSync(rssFile)) {
    rssMb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) / 1024;
    rmSync(rssFile);
  }
  return { seconds, rssMb, code, output };
}

/**
 * `tolerate`: a provision whose pairs partly failed (exit 1) is reported with the failed pairs' lines
 * (`failed`) instead of ending the run, so a second provision can set them up and the rest be measured.
 */
async function measure(name: string, args: string[], env?: NodeJS.ProcessEnv, tolerate = false): Promise<boolean> {
  const { seconds, rssMb, code, output } = await duet(args, env);
  const failed = code === 1 && tolerate ? output.split('\n').filter((line) => /^\S+: FAILED/.test(line)) : [];
  if (code !== 0) {
    // The hosts' logs (ha-log, MariaDB's error log) outlive the teardown that follows.
    const kept = join(tmpdir(), `duet-fleet-logs-${process.pid}`);
    for (const host of readdirSync(statePath(fixtureStateDir(), 'hosts'))) {
      cpSync(join(statePath(fixtureStateDir(), 'hosts'), host, 'log'), join(kept, host), { recursive: true });
    }
    if (failed.length === 0) {
      process.stderr.write(output);
      throw new Error(`duet ${args.join(' ')} exited ${code}; the hosts' /var/log are kept in ${kept}`);
    }
    progress(`${name}: ${failed.length} pair(s) failed; the hosts' /var/log are kept in ${kept}`);
  }
  emit({
    measure: name,
    seconds: Number(seconds.toFixed(2)),
    bin: env?.DUET_NO_BUNDLE === '1' || !bundleIsCurrent(packagePath()) ? 'tsx' : 'bundle',
    ...(rssMb === undefined ? {} : { rssMb: Number(rssMb.toFixed(0)) }),
    ...(failed.length > 0 && { failed }),
  });
  return failed.length === 0;
}

/**
 * Bounded: once the hosts are ours, the run gets --max-minutes; past that, or on Ctrl-C / SIGTERM,
 * the hosts are torn down and the lock released before exiting (waiting for the lock is not counted).
 */
function guard(): () => void {
  const abort = async (why: string) => {
    progress(`${why}: tearing the fixture hosts down`);
    await fixturesDown().catch((err: unknown) => progress(`down failed: ${String(err)}`));
    releaseHostLock();
    process.exit(1);
  };
  const timer = setTimeout(() => void abort(`over ${values['max-minutes']} min`), Number(values['max-minutes']) * 60_000);
  const onSignal = (signal: NodeJS.Signals) => void abort(signal);
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  return () => {
    clearTimeout(timer);
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  };
}

await withFixtureHosts(async () => {
  const unguard = guard();
  for (const [size, run] of sizes.flatMap((n) => Array.from({ length: runs }, (_, r) => [n, r] as const))) {
    pairs = size;
    const parallel = values.parallel ?? String(pairs);
    progress(`${pairs} pair(s), run ${run + 1} of ${runs}`);
    const upStarted = performance.now();
    const state = await fixturesUp({ pairs, log: progress });
    emit({ measure: 'fixtures-up', seconds: Number(((performance.now() - upStarted) / 1000).toFixed(2)) });
    const inventory = statePath(state.stateDir, 'fleetInventory');
    // A pair whose writer did not take its resources in time (seen on a loaded 20-pair fleet) is set
    // up by a second run; the no-op figures need every pair converged.
    if (!(await measure('cold', ['provision', inventory, '--yes', '--parallel', parallel], process.env, true))) {
      await measure('cold-repair', ['provision', inventory, '--yes', '--parallel', parallel]);
    }
    for (let i = 0; i < 3; i++) await measure('no-op', ['provision', inventory, '--yes', '--parallel', parallel]);
    // The same through tsx, for the start-up cost the bundle saves.
    await measure('no-op', ['provision', inventory, '--yes', '--parallel', parallel], { ...process.env, DUET_NO_BUNDLE: '1' });
    // --profile DIR: one more no-op under `node --cpu-prof`, for where its time goes.
    if (values.profile) await duet(['provision', inventory, '--yes', '--parallel', parallel], process.env, ['--cpu-prof', '--cpu-prof-dir', values.profile]);
    await measure('dry-run', ['provision', inventory, '--dry-run', '--parallel', parallel]);
    // The floor under every command: one SSH login per node running `true` (bench/ssh-floor.ts).
    for (let i = 0; i < 3; i++) emit({ measure: 'ssh-floor', ...(await sshFloor(inventory)) });
    for (let i = 0; i < 3; i++) await measure('verify', ['verify', inventory, ...(await supportsParallel('verify') ? ['--parallel', parallel] : [])]);
    await measure('status', ['status', inventory, ...(await supportsParallel('status') ? ['--parallel', parallel] : [])]);
    emit({ measure: 'idle', ...(await idleLoad(IDLE_SECONDS)) });
    const status = await fixturesStatus({ stateDir: state.stateDir });
    const processes = status.hosts.flatMap((host) => host.processes);
    const pssMb = (command?: string) => processes.filter((p) => !command || p.command === command).reduce((sum, p) => sum + p.pssKb, 0) / 1024;
    emit({ measure: 'hosts-pss', mb: Math.round(pssMb()), mariadbdMb: Math.round(pssMb('mariadbd')), hosts: status.hosts.length });
  }
  unguard();
});

/**
 * What the provisioned fleet costs the machine while duet does nothing (its monitors, Heartbeats and
 * servers): the CPUs busy over `seconds` (from /proc/stat) and the load averages at the end.
 */
async function idleLoad(seconds: number): Promise<{ busyCpus: number; loadavg: number[] }> {
  const cpu = () => {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const ticks = fields.map(Number);
    return { total: ticks.reduce((a, b) => a + b, 0), idle: ticks[3]! + ticks[4]! };
  };
  const before = cpu();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = cpu();
  const total = after.total - before.total;
  const busy = total - (after.idle - before.idle);
  const cpus = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).length;
  return { busyCpus: Number(((busy / total) * cpus).toFixed(2)), loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number) };
}

/** bench/ssh-floor.ts over the inventory: its logins and their seconds (module loading not counted). */
async function sshFloor(inventory: string): Promise<{ logins: number; seconds: number }> {
  const script = new URL('./ssh-floor.ts', import.meta.url).pathname;
  const { output, code } = await new Promise<{ output: string; code: number }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, inventory], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exit) => resolve({ output, code: exit ?? 1 }));
  });
  if (code !== 0) throw new Error(`ssh-floor.ts exited ${code}`);
  return JSON.parse(output) as { logins: number; seconds: number };
}

async function supportsParallel(command: string): Promise<boolean> {
  const { output } = await duet([command, '--help']);
  return output.includes('--parallel');
}

// Carries out one host's plan: stage every changed file beside its target, check each with the real
// tool, keep the old copy, rename into place, then run each affected service action once. A failure
// before the renames leaves the host as it was; a failed service action puts the old files back and
// restarts the service, so the host ends either as it was or fully converged.
//
// Backups of secret files (authkeys) are root-only (0600) and live only while this host's apply runs:
// the rollback above is the one reader of a backup, so once the apply ended (converged, or the old
// files put back) the old key is deleted. That keeps the guarantee, and no old key stays behind after
// a rotation. If duet dies in the middle, the backup stays, as protected as the live file.
import { audit } from '../audit.ts';
import { ApplyError } from '../errors.ts';
import type { Flavor } from '../inventory/model.ts';
import type { HostFacts } from '../plan/facts.ts';
import { changedFiles, type FileChange, type HostPlan, type Service } from '../plan/plan.ts';
import type { SshConnection } from '../transport/ssh.ts';
import { shellQuote as q } from '../transport/shell.ts';
import {
  agentServiceCommand,
  checkCommand,
  installScript,
  loadFirewallCommand,
  mysqlUnit,
  parseInstalled,
  reloadTlsCommand,
  removeSecretBackupsCommand,
  restoreCommand,
  serviceCommand,
  stageScript,
  stagingPath,
  withoutInheritedPipes,
} from './services.ts';

export interface ApplyContext {
  ssh: SshConnection;
  facts: HostFacts;
  flavor: Flavor;
  log: (line: string) => void;
  /** Why, for the audit log: the phase of the command applying the plan (default `apply`). */
  phase?: string;
}

export interface ApplyResult {
  filesChanged: string[];
  servicesRun: string[];
}

const SERVICE_TIMEOUT_MS = 120_000;

export async function applyHostPlan(plan: HostPlan, ctx: ApplyContext): Promise<ApplyResult> {
  const changes = changedFiles(plan);
  if (changes.length === 0 && plan.services.length === 0) return { filesChanged: [], servicesRun: [] };
  const contentChanges = changes.filter((c) => c.contentChanged);

  // 1. Stage and check. Nothing live has changed yet, so any failure here just cleans up.
  try {
    await stageFiles(contentChanges, ctx);
  } catch (err) {
    await removeStaged(contentChanges, ctx);
    throw err;
  }

  try {
    return await installAndRun(plan, changes, contentChanges, ctx);
  } finally {
    await removeSecretBackups(changes, ctx);
  }
}

async function installAndRun(plan: HostPlan, changes: FileChange[], contentChanges: FileChange[], ctx: ApplyContext): Promise<ApplyResult> {
  const host = plan.host;
  // 2. Install: back up, then rename. Metadata-only changes are fixed in place.
  const installed: FileChange[] = [];
  try {
    await installFiles(changes, installed, ctx);
  } catch (err) {
    const undone = await restoreFiles(installed, ctx, 'installing files failed')
      .then(() => removeStaged(contentChanges, ctx))
      .then(
        () => 'the files installed so far were put back',
        (again: unknown) => `putting back the files installed so far failed too (${firstLine(again)}): check ${installed.map((c) => c.file.path).join(', ') || 'the staged files'} by hand`,
      );
    throw new ApplyError(`installing files failed (${firstLine(err)}); ${undone}`, { host, cause: err });
  }
  if (changes.length > 0) ctx.log(`${host}: installed ${changes.map((c) => c.file.path).join(', ')}`);
  for (const repair of plan.repairs) ctx.log(`${host}: ${repair.service}: ${repair.reasons.join('; ')}`);

  // 3. Services, once each, in plan order.
  const servicesRun: string[] = [];
  for (const service of plan.services) {
    // A Heartbeat that is not running yet is started by converge, on both nodes together once
    // replication runs, so the floating IP goes to a node that is ready to be the writer.
    if (service === 'heartbeat' && !ctx.facts.running.heartbeat) continue;
    // A server that is not running reads its new certificates when converge starts it.
    if (service === 'tls' && !ctx.facts.running.mysql) continue;
    try {
      servicesRun.push(await runServiceAction(service, plan, ctx));
    } catch (err) {
      // Read the server's complaint before the recovery restart adds its own lines.
      const detail = service === 'mysql' ? await serverErrorLines(ctx) : '';
      // Back to the host as it was: every file, and every service that already ran, runs again
      // with the previous files.
      const done = plan.services.slice(0, plan.services.indexOf(service) + 1);
      const recovered = await (async () => {
        await restoreFiles(installed, ctx, `${service} failed with the new configuration`);
        for (const s of done) await runServiceAction(s, plan, ctx);
      })().then(
        () => 'the previous files are back and it runs again',
        (again: unknown) => `the previous files are back but it still fails (${firstLine(again)})`,
      );
      throw new ApplyError(`${service} failed with the new configuration; ${recovered}${detail}`, {
        host,
        hint: 'fix the inventory (the server\'s own error lines are above) and run provision again',
        cause: err,
      });
    }
  }
  return { filesChanged: changes.map((c) => c.file.path), servicesRun };
}

/** Uploads every changed file beside its target in one round trip, then checks each with its tool (at once). */
async function stageFiles(changes: FileChange[], { ssh, flavor }: ApplyContext): Promise<void> {
  if (changes.length === 0) return;
  await ssh.run('sh -s', { stdin: stageScript(changes.map((c) => c.file)) });
  const checked = await Promise.all(
    changes.map(async ({ file }) => (file.check ? { file, result: await ssh.exec(checkCommand(file.check, stagingPath(file.path), flavor)) } : undefined)),
  );
  const failed = checked.find((c) => c !== undefined && c.result.code !== 0);
  if (failed) {
    throw new ApplyError(`${failed.file.path} failed its check (${failed.file.check}); nothing on the host was changed`, {
      host: ssh.target.name,
      hint: lastLines(failed.result.stderr || failed.result.stdout, 5),
    });
  }
}

/**
 * Puts the staged files in place in one round trip (installScript): backups kept, renames (atomic
 * within a directory), metadata-only changes fixed in place. `installed` receives each file put in
 * place, in order, also when a later one fails (the caller puts those back).
 */
async function installFiles(changes: FileChange[], installed: FileChange[], ctx: ApplyContext): Promise<void> {
  if (changes.length === 0) return;
  const { ssh } = ctx;
  const script = installScript(changes.map((c) => ({ file: c.file, backup: c.contentChanged && c.action === 'update', metadataOnly: !c.contentChanged })));
  const result = await ssh.exec(script);
  for (const i of parseInstalled(result.stdout)) {
    const change = changes[i]!;
    installed.push(change);
    const { file } = change;
    const owner = `${file.owner}:${file.group} ${file.mode.toString(8).padStart(4, '0')}`;
    const what = !change.contentChanged ? `set owner and mode of ${file.path} to ${owner}` : `${change.action === 'create' ? 'created' : 'replaced'} ${file.path} (${owner})`;
    audit({ host: ssh.target.name, phase: ctx.phase ?? 'apply', kind: 'file', what });
  }
  if (result.code !== 0) {
    const failed = changes[installed.length];
    throw new ApplyError(`${failed ? failed.file.path : 'a file'}: exited with status ${result.code}${result.stderr.trim() ? ` (${lastLines(result.stderr, 1)})` : ''}`, { host: ssh.target.name });
  }
}

/** Puts back the previous copies of installed files; files that did not exist before are removed. */
async function restoreFiles(changes: FileChange[], { ssh, phase }: ApplyContext, why: string): Promise<void> {
  for (const change of changes) {
    if (!change.contentChanged) continue;
    const target = q(change.file.path);
    const command = change.action === 'create' ? `rm -f ${target}` : restoreCommand(change.file);
    const result = await ssh.exec(command);
    const what = change.action === 'create' ? `removed the new ${change.file.path}` : `put the previous ${change.file.path} back`;
    audit({ host: ssh.target.name, phase: phase ?? 'apply', kind: 'file', what: `${what} (${why})${result.code === 0 ? '' : `: exited with status ${result.code}`}` });
  }
}

/** The old keys go once nothing can need them any more (see the top of this file). */
async function removeSecretBackups(changes: FileChange[], { ssh }: ApplyContext): Promise<void> {
  const command = removeSecretBackupsCommand(changes.filter((c) => c.contentChanged && c.action === 'update').map((c) => c.file));
  if (command === undefined) return;
  // Best effort: a lost connection must not hide the error that ended the apply; the backup is 0600.
  await ssh.exec(command).catch(() => undefined);
}

async function removeStaged(changes: FileChange[], { ssh }: ApplyContext): Promise<void> {
  if (changes.length === 0) return;
  await ssh.exec(`rm -f ${changes.map((c) => q(stagingPath(c.file.path))).join(' ')}`);
}

async function runServiceAction(service: Service, plan: HostPlan, ctx: ApplyContext): Promise<string> {
  const { ssh, facts, flavor } = ctx;
  let command: string;
  switch (service) {
    case 'mysql':
      command = serviceCommand(facts.initSystem, mysqlUnit(flavor), 'restart');
      break;
    case 'firewall':
      if (!plan.firewallBoot) throw new Error(`${plan.host}: a firewall action without a way to load the rules at boot in the plan`);
      command = loadFirewallCommand(plan.firewallBoot.boot, facts.initSystem, plan.firewallBoot.leftovers);
      break;
    case 'heartbeat':
      // A running Heartbeat is reloaded (`heartbeat -r`: it re-reads its files and keeps its
      // resources), because a restart would hand the floating IP to the peer.
      command = serviceCommand(facts.initSystem, 'heartbeat', facts.running.heartbeat ? 'reload' : 'start');
      break;
    case 'haproxy':
      // A reload hands the listeners to a new process; established connections stay on the old one.
      command = serviceCommand(facts.initSystem, 'haproxy', facts.running.haproxy ? 'reload' : 'start');
      break;
    case 'agent':
      command = agentServiceCommand(facts.initSystem);
      break;
    case 'tls':
      command = reloadTlsCommand(flavor);
      break;
  }
  ctx.log(`${ssh.target.name}: ${command}`);
  const record = (outcome: string) => audit({ host: ssh.target.name, phase: ctx.phase ?? 'apply', kind: 'service', what: `ran ${command}${outcome}`, statements: [`$ ${command}`] });
  try {
    await ssh.run(withoutInheritedPipes(command), { timeoutMs: SERVICE_TIMEOUT_MS });
  } catch (err) {
    record(`: FAILED (${firstLine(err)})`);
    throw err;
  }
  record('');
  return command;
}

/** The last lines of the server's error log, which say why it would not start. */
async function serverErrorLines(ctx: ApplyContext): Promise<string> {
  // Debian logs to /var/log/mysql/error.log when log_error is set, otherwise mysqld_safe writes
  // DATADIR/HOST.err; systemd hosts may have only the journal. The newest file is the one written.
  const result = await ctx.ssh.exec(
    'log=$(ls -t /var/log/mysql/error.log /var/lib/mysql/*.err 2>/dev/null | head -n 1); if [ -n "$log" ]; then tail -n 8 "$log"; else journalctl -u mariadb -u mysql -n 8 --no-pager 2>/dev/null; fi',
  );
  const lines = result.stdout.trim();
  return lines ? `\n  server log:\n    ${lines.split('\n').join('\n    ')}` : '';
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

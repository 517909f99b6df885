// The plan: desired files against a host's facts -> what changes and which services it touches.
// Pure (pyinfra's facts -> operations -> diff); apply.ts carries it out.
import { createTwoFilesPatch } from 'diff';
import { REDACTED, redact, type Secret } from '../inventory/secret.ts';
import type { DesiredFile } from '../render/desired.ts';
import type { FileFact } from './facts.ts';
import type { FirewallBootChoice } from './firewall-boot.ts';

export type Service = DesiredFile['service'];

export interface FileChange {
  file: DesiredFile;
  action: 'create' | 'update' | 'unchanged';
  contentChanged: boolean;
  /** Mode or owner differ (fixed without touching the content). */
  metadataChanged: boolean;
  /** Unified diff of the content, secrets redacted; '' when only metadata changed. */
  diff: string;
  /** Human-readable reasons, e.g. "mode 0644 -> 0600". */
  reasons: string[];
}

/** A service action needed although its files are unchanged: what runs differs from them. */
export interface Repair {
  service: Service;
  /** What differs, e.g. "the INPUT policy is ACCEPT, the rendered rules say DROP". */
  reasons: string[];
}

export interface HostPlan {
  host: string;
  changes: FileChange[];
  /** Services whose files changed or that need a repair, in the order the files are applied. */
  services: Service[];
  /** Services to run because the running state drifted from unchanged files (the rules in force). */
  repairs: Repair[];
  /** How the host loads the firewall rules at boot, when duet manages its firewall (chooseFirewallBoot). */
  firewallBoot?: FirewallBootChoice;
}

/** The order a host's service actions run in (a load balancer: firewall, heartbeat, haproxy). */
const SERVICE_ORDER: Service[] = ['mysql', 'tls', 'firewall', 'heartbeat', 'haproxy', 'agent'];

export function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

export function planFile(file: DesiredFile, fact: FileFact | undefined, secrets: readonly Secret[]): FileChange {
  if (!fact || !fact.exists) {
    return {
      file,
      action: 'create',
      contentChanged: true,
      metadataChanged: true,
      diff: fileDiff(file, '', secrets),
      reasons: [`new file, mode ${formatMode(file.mode)} ${file.owner}:${file.group}`],
    };
  }
  const reasons: string[] = [];
  const contentChanged = fact.content !== file.content;
  if (contentChanged) reasons.push('content differs');
  if (fact.mode !== file.mode) reasons.push(`mode ${fact.mode === undefined ? '?' : formatMode(fact.mode)} -> ${formatMode(file.mode)}`);
  if (fact.owner !== file.owner || fact.group !== file.group) reasons.push(`owner ${fact.owner}:${fact.group} -> ${file.owner}:${file.group}`);
  const metadataChanged = reasons.length > (contentChanged ? 1 : 0);
  return {
    file,
    action: contentChanged || metadataChanged ? 'update' : 'unchanged',
    contentChanged,
    metadataChanged,
    diff: contentChanged ? fileDiff(file, fact.content ?? '', secrets) : '',
    reasons,
  };
}

/**
 * The files' diffs and the service actions they imply. `repairs`: services whose running state differs
 * from their files (found by the caller from the facts); one whose files change anyway runs once.
 */
export function planHost(host: string, desired: DesiredFile[], facts: Map<string, FileFact>, secrets: readonly Secret[], repairs: Repair[] = []): HostPlan {
  const changes = desired.map((file) => planFile(file, facts.get(file.path), secrets));
  // A mode or owner fix does not change what a daemon reads, so it restarts nothing.
  const fromFiles = new Set(changes.filter((c) => c.contentChanged).map((c) => c.file.service));
  const needed = repairs.filter((r) => r.reasons.length > 0 && !fromFiles.has(r.service));
  const wanted = new Set([...fromFiles, ...needed.map((r) => r.service)]);
  // A restarted server reads its certificates anyway; the reload (tls) is for a server that keeps running.
  if (wanted.has('mysql')) wanted.delete('tls');
  return { host, changes, services: SERVICE_ORDER.filter((s) => wanted.has(s)), repairs: needed };
}

/**
 * Of the daemons a host keeps running (`daemons`: a database node, the writer agent with load
 * balancers; a load balancer, HAProxy and Heartbeat), those duet renders files for that do not run:
 * repairs, so the plan lists their start and a run that changes nothing else starts them. A
 * database node's server and Heartbeat are the pair's (planPair); the firewall is compared apart.
 */
export function daemonRepairs(desired: readonly DesiredFile[], running: Readonly<Record<Daemon, boolean>>, daemons: readonly Daemon[]): Repair[] {
  return daemons
    .filter((daemon) => desired.some((f) => f.service === daemon) && !running[daemon])
    .map((daemon) => ({ service: daemon, reasons: [DAEMON_DOWN[daemon]] }));
}

type Daemon = 'haproxy' | 'heartbeat' | 'agent';
const DAEMON_DOWN: Record<Daemon, string> = {
  haproxy: 'haproxy is not running',
  heartbeat: 'heartbeat is not running',
  agent: 'the writer agent is not running (the load balancers ask it which node is writable)',
};

export function changedFiles(plan: HostPlan): FileChange[] {
  return plan.changes.filter((c) => c.action !== 'unchanged');
}

/** Whether applying the plan does anything: a file to change or a service to repair. */
export function hostHasWork(plan: HostPlan): boolean {
  return changedFiles(plan).length > 0 || plan.repairs.length > 0;
}

/**
 * A unified diff. Files that hold a secret never show their lines with the secret: both sides
 * are redacted with every known secret value, and lines of a secret file are masked entirely.
 */
function fileDiff(file: DesiredFile, current: string, secrets: readonly Secret[]): string {
  const clean = (text: string) => (file.secret ? maskSecretFile(redact(text, secrets)) : redact(text, secrets));
  return createTwoFilesPatch(file.path, file.path, clean(current), clean(file.content), 'on host', 'desired', { context: 3 });
}

/**
 * In a secret file (authkeys) any line may hold key material, even an unknown old key in a format
 * duet does not write: only blank lines, comments and `auth N` are shown; "N METHOD KEY" keeps its
 * number and method, anything else is masked whole.
 */
function maskSecretFile(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(#.*)?$/.test(line) || /^\s*auth\s+\d+\s*$/.test(line)) return line;
      const m = /^(\s*\d+\s+[a-z0-9]+\s+)\S/.exec(line);
      return m ? `${m[1]}${REDACTED}` : REDACTED;
    })
    .join('\n');
}

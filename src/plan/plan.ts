// The plan: desired files against a host's facts -> what changes and which services it touches.
// Pure (pyinfra's facts -> operations -> diff); apply.ts carries it out.
import { createTwoFilesPatch } from 'diff';
import { REDACTED, redact, type Secret } from '../inventory/secret.ts';
import type { DesiredFile } from '../render/desired.ts';
import type { FileFact } from './facts.ts';

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

export interface HostPlan {
  host: string;
  changes: FileChange[];
  /** Services whose files changed, in the order the files are applied. */
  services: Service[];
}

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

export function planHost(host: string, desired: DesiredFile[], facts: Map<string, FileFact>, secrets: readonly Secret[]): HostPlan {
  const changes = desired.map((file) => planFile(file, facts.get(file.path), secrets));
  const services: Service[] = [];
  for (const c of changes) {
    // A mode or owner fix does not change what a daemon reads, so it restarts nothing.
    if (c.contentChanged && !services.includes(c.file.service)) services.push(c.file.service);
  }
  return { host, changes, services };
}

export function changedFiles(plan: HostPlan): FileChange[] {
  return plan.changes.filter((c) => c.action !== 'unchanged');
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

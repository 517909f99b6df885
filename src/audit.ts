// The audit log: one JSON line for every change duet makes on a host (a file installed, a service
// action, state-changing SQL, a role move), with when, who (the local OS user), where, what and why
// (the command and its phase). Appended to ~/.duet/log/<cluster>.jsonl (inventory `audit_log:`),
// flushed to disk per line. Never a secret: statements show a Secret parameter as [redacted] (as the
// --verbose trace does), and every line is redacted against the inventory's secrets before it is
// written. One log per process, like the trace: the commands that change hosts open it, the
// operations call audit() where they change something, and nothing happens when none is open.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './errors.ts';
import { redact, type Secret } from './inventory/secret.ts';
import type { SqlStatement } from './mysql/dialect.ts';
import { sqlText } from './trace.ts';

/** What kind of change: `role` entries (the write role granted or given up) are what `status --history` shows. */
export type ChangeKind = 'file' | 'service' | 'sql' | 'data' | 'role';

/** What an operation reports; the log adds time, user, cluster and command. */
export interface Change {
  /** The node changed. */
  host: string;
  /** Why: the step of the command (apply, converge, swap freeze, ...). */
  phase: string;
  kind: ChangeKind;
  /** One sentence. */
  what: string;
  /** The statements (as auditSql shows them) and remote commands (`$ ...`) that made the change. */
  statements?: string[];
  /** Role changes: the pair, and its writer afterwards (absent when the change left it without one). */
  pair?: string;
  writer?: string;
}

export interface AuditEntry extends Change {
  time: string;
  /** The local OS user running duet. */
  user: string;
  /** The user who ran sudo, when duet runs under sudo. */
  sudo_user?: string;
  cluster: string;
  /** The duet command, e.g. `swap`, `readonly off`. */
  command: string;
}

/** ~/.duet/log/<cluster>.jsonl: the operator's, beside the swap journal. */
export function defaultAuditLogPath(cluster: string): string {
  return join(homedir(), '.duet', 'log', `${cluster}.jsonl`);
}

/** A statement as the audit log shows it: one line, parameters after it, a secret as [redacted]. */
export function auditSql(statement: SqlStatement | string): string {
  return typeof statement === 'string' ? sqlText(statement, []) : sqlText(statement.sql, statement.params);
}

export class AuditLog {
  readonly path: string;
  readonly #cluster: string;
  readonly #command: string;
  readonly #secrets: readonly Secret[];
  readonly #warn: (line: string) => void;
  readonly #user = localUser();
  #fd: number | undefined;
  #warned = false;

  constructor(path: string, opts: { cluster: string; command: string; secrets: readonly Secret[]; warn: (line: string) => void }) {
    this.path = path;
    this.#cluster = opts.cluster;
    this.#command = opts.command;
    this.#secrets = opts.secrets;
    this.#warn = opts.warn;
  }

  /** Opens the file for appending (0600, its folder 0700): a log that cannot be written stops the command before it changes anything. */
  open(): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      this.#fd = openSync(this.path, 'a', 0o600);
    } catch (err) {
      throw new UsageError(`cannot open the audit log ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'set audit_log in the inventory to a file this user can write, or fix the permissions',
      });
    }
  }

  /** Appends one line, flushed to disk. A failure to write is warned about once; the change was made already. */
  record(change: Change): void {
    if (this.#fd === undefined) return;
    const entry: AuditEntry = { time: new Date().toISOString(), ...this.#user, cluster: this.#cluster, command: this.#command, ...change };
    try {
      writeSync(this.#fd, `${redact(JSON.stringify(entry), this.#secrets)}\n`);
      fsyncSync(this.#fd);
    } catch (err) {
      if (!this.#warned) this.#warn(`warning: cannot write the audit log ${this.path}: ${(err as Error).message}`);
      this.#warned = true;
    }
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function localUser(): { user: string; sudo_user?: string } {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
  const sudo = process.env.SUDO_USER;
  return sudo && sudo !== user ? { user, sudo_user: sudo } : { user };
}

let current: AuditLog | undefined;

/** Makes `log` the process's audit log (undefined: none, the default), closing the previous one. */
export function setAuditLog(log: AuditLog | undefined): void {
  if (current !== log) current?.close();
  current = log;
}

/** Records a change in the audit log, if one is open. */
export function audit(change: Change): void {
  current?.record(change);
}

/** Every entry of a log file, oldest first ([] when there is none); lines that are not entries are skipped. */
export function readAuditLog(path: string): AuditEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`cannot read the audit log ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return text.split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as AuditEntry;
      return entry && typeof entry === 'object' && typeof entry.time === 'string' ? [entry] : [];
    } catch {
      return [];
    }
  });
}

/** The last `count` role changes of these pairs, oldest first. Pure. */
export function roleHistory(entries: readonly AuditEntry[], pairs: readonly string[], count: number): AuditEntry[] {
  if (count <= 0) return [];
  return entries.filter((e) => e.kind === 'role' && e.pair !== undefined && pairs.includes(e.pair)).slice(-count);
}

/** `2025-01-02T03:04:05.000Z swap (op): db2 is the writer of pair main ...` */
export function formatHistoryEntry(e: AuditEntry): string {
  const who = e.sudo_user ? `${e.sudo_user} as ${e.user}` : e.user;
  return `${e.time} ${e.command} (${who}): ${e.what}`;
}

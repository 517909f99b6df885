// One error family for everything duet expects to go wrong. Entry points (scripts/) catch these and
// print a sentence (plus host and hint); anything else is a bug and gets a stack trace.

export interface ErrorDetails {
  host?: string;
  hint?: string;
  cause?: unknown;
}

export abstract class DuetError extends Error {
  abstract readonly exitCode: number;
  readonly host: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.host = details.host;
    this.hint = details.hint;
  }

  /** The one-paragraph form shown to users: "host: message" and the hint on its own line. */
  describe(): string {
    const head = this.host ? `${this.host}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

/** One problem found in an inventory file: where it is and what to do about it. */
export interface InventoryIssue {
  file: string;
  /** Field path such as pairs[0].nodes[1].server_id ("" for the whole document). */
  path: string;
  line?: number;
  column?: number;
  message: string;
  hint?: string;
}

export function formatInventoryIssue(issue: InventoryIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  const field = issue.path === '' ? '' : ` ${issue.path}:`;
  const hint = issue.hint ? `\n    hint: ${issue.hint}` : '';
  return `${where}:${field} ${issue.message}${hint}`;
}

/** Bad input (inventory, flags): nothing was touched. Carries every issue found, not just the first. */
export class InventoryError extends DuetError {
  readonly exitCode = 2;
  readonly issues: InventoryIssue[];

  constructor(issues: InventoryIssue[]) {
    const first = issues[0];
    super(
      issues.length === 1 && first ? formatInventoryIssue(first) : `${issues.length} problems in the inventory`,
    );
    this.issues = issues;
  }

  override describe(): string {
    if (this.issues.length === 1) return this.message;
    return [`${this.issues.length} problems in the inventory:`, ...this.issues.map((i) => `  ${formatInventoryIssue(i)}`)].join('\n');
  }
}

/** A template could not be rendered (e.g. it uses a variable the renderer does not provide). */
export class RenderError extends DuetError {
  readonly exitCode = 2;
}

/** Bad command-line usage that yargs itself does not catch (unknown node name, conflicting flags). */
export class UsageError extends DuetError {
  readonly exitCode = 2;
}

/** SSH could not connect, authenticate, verify the host key, or run a command. */
export class TransportError extends DuetError {
  readonly exitCode = 3;
}

/** A host is not in a state duet can work with (wrong uname -n, package missing, unknown flavor). */
export class HostStateError extends DuetError {
  readonly exitCode = 4;
}

/**
 * The server rejected an SQL statement (privileges, a missing table, a syntax error...): the
 * server's errno, code and SQLSTATE are kept for callers that decide by them. A lost connection is
 * a TransportError instead (src/mysql/dao.ts tells them apart by mysql2's error code).
 */
export class SqlError extends DuetError {
  readonly exitCode = 4;
  /** The server's error number (1146 ER_NO_SUCH_TABLE...); undefined when mysql2 gave none. */
  readonly errno: number | undefined;
  /** mysql2's code: 'ER_NO_SUCH_TABLE', ... */
  readonly code: string | undefined;
  readonly sqlState: string | undefined;

  constructor(message: string, details: ErrorDetails & { errno?: number | undefined; code?: string | undefined; sqlState?: string | undefined } = {}) {
    super(message, details);
    this.errno = details.errno;
    this.code = details.code;
    this.sqlState = details.sqlState;
  }
}

/** Changing a host failed (a file check, a service restart); the message says what was rolled back. */
export class ApplyError extends DuetError {
  readonly exitCode = 5;
}

/**
 * Replication or data is not in a state that allows the requested change: a refusal before
 * anything was changed. Failures after the first change are ApplyErrors (see afterFirstChange).
 */
export class ReplicationError extends DuetError {
  readonly exitCode = 6;
}

/** A fixture (test host) operation failed. */
export class FixtureError extends DuetError {
  readonly exitCode = 7;
}

/**
 * Exit codes by phase. Before an operation's first change, a failure keeps its own class (2, 3, 4,
 * 6: nothing was changed). The part of an operation from its first change on runs inside this: any
 * expected failure there becomes an ApplyError (exit 5) whose message starts with `context` (what
 * may have been changed by then), so that "nothing changed" is never claimed after a change.
 * ApplyErrors pass through as they are (they say what was rolled back); bugs too. `hint` replaces
 * the failure's own hint (e.g. with how to finish what was begun).
 */
export async function afterFirstChange<T>(context: string, body: () => Promise<T>, hint?: string): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ApplyError || !(err instanceof DuetError)) throw err;
    throw new ApplyError(`${context}: ${err.message}`, { host: err.host, hint: hint ?? err.hint, cause: err });
  }
}

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

/** Changing a host failed (a file check, a service restart); the message says what was rolled back. */
export class ApplyError extends DuetError {
  readonly exitCode = 5;
}

/** Replication or data is not in a state that allows the requested change. */
export class ReplicationError extends DuetError {
  readonly exitCode = 6;
}

/** A fixture (test host) operation failed. */
export class FixtureError extends DuetError {
  readonly exitCode = 7;
}

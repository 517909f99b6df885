// The one place where errors become exit codes. Every entry point (bin/duet.js, scripts/*.ts) ends
// in runMain(...).
import { DuetError, InventoryError, type InventoryIssue } from '../errors.ts';

/** Exit codes by meaning, the same for every command (README "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** A check or a host failed; the report says which. */
  failed: 1,
  /** Bad input or usage; nothing was touched. */
  badInput: 2,
  ssh: 3,
  hostState: 4,
  /** A change failed; the message says what was rolled back. */
  applyFailed: 5,
  /** Refused by the replication state; nothing was changed. */
  refused: 6,
  fixtures: 7,
  bug: 70,
} as const;

/** A stable name for each exit code, for `--json` failures. */
const KIND: Record<number, string> = {
  2: 'bad-input',
  3: 'ssh',
  4: 'host-state',
  5: 'apply-failed',
  6: 'refused',
  7: 'fixtures',
  70: 'bug',
};

export interface ErrorDocument {
  error: {
    /** The exit code. */
    code: number;
    /** A stable name for the code: bad-input, ssh, host-state, apply-failed, refused, fixtures, bug. */
    kind: string;
    message: string;
    hint: string | null;
    host: string | null;
    /** Bad inventories: every problem with file, line, column and field path. */
    issues?: InventoryIssue[];
  };
}

/** The `--json` form of a failure (printed on stdout). */
export function errorDocument(err: unknown): ErrorDocument {
  if (err instanceof DuetError) {
    return {
      error: {
        code: err.exitCode,
        kind: KIND[err.exitCode] ?? 'error',
        message: err instanceof InventoryError ? err.describe() : err.message,
        hint: err.hint ?? null,
        host: err.host ?? null,
        ...(err instanceof InventoryError ? { issues: err.issues } : {}),
      },
    };
  }
  return { error: { code: EXIT.bug, kind: KIND[EXIT.bug]!, message: `unexpected error (this is a bug in duet): ${err instanceof Error ? err.message : String(err)}`, hint: null, host: null } };
}

/**
 * Whether the command line asks for JSON output (--json, --json=true; not --no-json or --json=false;
 * nothing after `--`). Read from the raw arguments so that a usage error, found before yargs has
 * parsed anything, is reported as JSON too.
 */
export function wantsJson(args: readonly string[]): boolean {
  let json = false;
  for (const arg of args) {
    if (arg === '--') break;
    if (arg === '--json' || arg === '--json=true') json = true;
    else if (arg === '--no-json' || arg === '--json=false') json = false;
  }
  return json;
}

/**
 * Runs an entry point. Expected failures (DuetError) print one sentence and the hint on stderr (with
 * --json: an error document on stdout) and exit with the error's code; anything else is a bug and
 * prints its stack on stderr (exit 70, EX_SOFTWARE). The body may return a number to choose the exit
 * code itself (e.g. verify: 1 when a check failed).
 */
export function runMain(body: () => Promise<number | void>, args: readonly string[] = process.argv.slice(2)): void {
  const json = wantsJson(args);
  body().then(
    (code) => {
      process.exitCode = code ?? EXIT.ok;
    },
    (err: unknown) => {
      if (json) process.stdout.write(`${JSON.stringify(errorDocument(err), null, 2)}\n`);
      if (err instanceof DuetError) {
        if (!json) process.stderr.write(`duet: ${err.describe()}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`duet: unexpected error (this is a bug in duet):\n${err instanceof Error ? err.stack : String(err)}\n`);
        process.exitCode = EXIT.bug;
      }
    },
  );
}

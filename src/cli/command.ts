// One command of duet: the same module behind `duet <name>` (bin/duet.js) and scripts/<name>.ts.
// Also what every command shares: the yargs settings (strict, a usage error is a short UsageError,
// exit 2) and numeric options that are checked (a type, a range) instead of becoming NaN.
import type { ArgumentsCamelCase, Argv, Options } from 'yargs';
import { AuditLog, setAuditLog } from '../audit.ts';
import { UsageError } from '../errors.ts';
import type { Inventory } from '../inventory/model.ts';
import { setTraceSink } from '../trace.ts';

export interface DuetCommand<A = any> {
  name: string;
  /** The positionals after the name, as yargs spells them ('<inventory> [node]'); '' for none. */
  args: string;
  describe: string;
  /** Options, positionals, examples, epilogue; subcommands (fixtures). */
  builder: (y: Argv) => Argv<A>;
  /** Runs the command; the returned number (default 0) is the exit code. Errors go to runMain. */
  run: (argv: ArgumentsCamelCase<A>) => Promise<number | void>;
}

/** Keeps the argv type from `builder` to `run`. */
export function defineCommand<A>(command: DuetCommand<A>): DuetCommand<A> {
  return command;
}

/**
 * The settings every parser of duet has: unknown options and arguments are errors, and any yargs
 * failure (unknown argument, missing positional, bad choice, a failed check or coerce) is a short
 * UsageError (exit 2, runMain prints it) instead of the whole help and exit 1.
 */
export function withDuetDefaults(y: Argv, name: string, usageOf = name): Argv {
  return y
    .scriptName(name)
    // Numbers reach numberOption's check as typed ('0x10', '1e3' are not numbers to duet).
    .parserConfiguration({ 'parse-numbers': false })
    .strict()
    .help()
    .fail((message: string | undefined, err: Error | undefined) => {
      if (err instanceof UsageError) throw err;
      throw new UsageError(message ?? err?.message ?? 'bad usage', { hint: `${usageOf} --help shows the usage` });
    });
}

export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest value allowed. */
  min?: number;
  /** Values must be greater than this (for "more than 0" with fractions allowed). */
  above?: number;
  max?: number;
}

/** What `rule` allows, in words: "a whole number from 1 to 64", "a number greater than 0". */
export function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'a whole number' : 'a number';
  const low = rule.min ?? rule.above;
  if (low !== undefined && rule.max !== undefined) return rule.above !== undefined ? `${kind} greater than ${low} and at most ${rule.max}` : `${kind} from ${low} to ${rule.max}`;
  if (rule.min !== undefined) return `${kind} of at least ${rule.min}`;
  if (rule.above !== undefined) return `${kind} greater than ${rule.above}`;
  if (rule.max !== undefined) return `${kind} of at most ${rule.max}`;
  return kind;
}

/**
 * The value of numeric option `--flag`, checked: a decimal number as typed (no hex, no exponent,
 * no empty string), whole when `rule.integer`, within the range. Throws a UsageError naming the flag.
 */
export function parseNumberOption(flag: string, value: unknown, rule: NumberRule): number {
  const wanted = describeRule(rule);
  const fail = (what: string): never => {
    throw new UsageError(`--${flag} must be ${wanted}, not ${what}`);
  };
  if (Array.isArray(value)) fail(`given ${value.length} times`);
  const text = String(value).trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) fail(value === '' || value === undefined || typeof value === 'boolean' ? 'empty' : JSON.stringify(String(value)));
  const n = Number(text);
  if (rule.integer && !Number.isInteger(n)) fail(text);
  if ((rule.min !== undefined && n < rule.min) || (rule.above !== undefined && n <= rule.above) || (rule.max !== undefined && n > rule.max)) fail(text);
  return n;
}

/**
 * A yargs option for a number, validated by parseNumberOption (the range is added to the help). No
 * yargs `type`: 'abc' reaches the check as typed instead of as NaN.
 */
export function numberOption(flag: string, opts: { describe: string; default: number } & NumberRule) {
  const { describe, default: fallback, ...rule } = opts;
  return {
    describe: `${describe} (${describeRule(rule)})`,
    default: fallback,
    requiresArg: true,
    coerce: (value: unknown): number => parseNumberOption(flag, value, rule),
  } satisfies Options;
}

/** `--pair a,b --pair c` as a list of names. */
export function commaList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => String(v).split(',')).filter((v) => v !== '');
}

/** --verbose for the commands that talk to hosts: every remote command and SQL statement on stderr. */
export const verboseOption = {
  type: 'boolean',
  default: false,
  describe: 'print every remote command and SQL statement on stderr as it runs (secrets redacted)',
} as const satisfies Options;

/** Turns tracing on for --verbose (src/trace.ts): lines go to stderr, prefixed with "+ ". */
export function traceWhen(verbose: boolean | undefined): void {
  setTraceSink(verbose ? (line) => process.stderr.write(`+ ${line}\n`) : undefined);
}

/**
 * Opens the inventory's audit log (audit_log, default ~/.duet/log/<cluster>.jsonl) for a command
 * about to change hosts: every change is recorded there as `command` (e.g. "readonly off"). A log
 * that cannot be opened is an error before anything is changed.
 */
export function startAudit(inv: Inventory, command: string): void {
  const log = new AuditLog(inv.auditLog, { cluster: inv.cluster, command, secrets: inv.secrets, warn: (line) => process.stderr.write(`${line}\n`) });
  log.open();
  setAuditLog(log);
}

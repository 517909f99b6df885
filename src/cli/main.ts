// The one place where errors become exit codes. Every script in scripts/ ends with runMain(...).
import { DuetError } from '../errors.ts';

/**
 * Runs an entry point. Expected failures (DuetError) print one sentence and the hint on stderr and
 * exit with the error's code; anything else is a bug and prints its stack (exit 70, EX_SOFTWARE).
 * The body may return a number to choose the exit code itself (e.g. verify: 1 when a check failed).
 */
export function runMain(body: () => Promise<number | void>): void {
  body().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err: unknown) => {
      if (err instanceof DuetError) {
        process.stderr.write(`duet: ${err.describe()}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`duet: unexpected error (this is a bug in duet):\n${err instanceof Error ? err.stack : String(err)}\n`);
        process.exitCode = 70;
      }
    },
  );
}

import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.ts';

/**
 * A confirm function for changes: --yes answers for the user; otherwise ask on the terminal. Without
 * a terminal (CI, a pipe) there is nobody to ask, and guessing "yes" would change hosts unreviewed.
 */
export function confirmer(yes: boolean): (question: string) => Promise<boolean> {
  return async (question) => {
    if (yes) return true;
    if (!process.stdin.isTTY) {
      throw new UsageError('changes are planned but there is no terminal to confirm them', {
        hint: 'review them with --dry-run, then run again with --yes',
      });
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}

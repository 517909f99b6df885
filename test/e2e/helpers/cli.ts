// Runs duet's own entry points the way a user does (a separate process, real exit code and output).
import { fileURLToPath } from 'node:url';
import { run, type CommandResult } from '../../../src/fixtures/run.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function duet(script: string, args: string[], { timeoutMs = 180_000, input }: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  return run([process.execPath, '--import', 'tsx', `${REPO_ROOT}scripts/${script}.ts`, ...args], { timeoutMs, ...(input === undefined ? {} : { input }) });
}

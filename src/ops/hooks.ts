// Hooks from the inventory: commands run on the controller (the machine running duet) around a
// swap, so a service registry, a proxy or a pager can be told. Policy: a pre_swap hook that fails
// (non-zero exit, or still running at its timeout) aborts the swap before anything is changed; a
// post_swap hook that fails is a warning, the swap stands. The environment names the pair, both
// writers and the floating IP (swapHookEnv); no secret is ever put there.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { ReplicationError } from '../errors.ts';
import type { Hook, Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';

export type SwapHookName = 'pre_swap' | 'post_swap';

/** The documented environment of a swap hook (README "Hooks"). Pure. */
export function swapHookEnv(inv: Inventory, pair: PairSpec, from: NodeSpec, to: NodeSpec, hook: SwapHookName): Record<string, string> {
  return {
    DUET_HOOK: hook,
    DUET_CLUSTER: inv.cluster,
    DUET_PAIR: pair.name,
    DUET_OLD_WRITER: from.name,
    DUET_OLD_WRITER_ADDRESS: from.address,
    DUET_NEW_WRITER: to.name,
    DUET_NEW_WRITER_ADDRESS: to.address,
    DUET_VIP: pair.vip.address,
  };
}

export interface HookResult {
  /** Exit status; undefined when it was killed (timeout or a signal). */
  code: number | undefined;
  timedOut: boolean;
  /** The last lines it printed (stdout and stderr), for the message. */
  tail: string;
}

/**
 * Runs `hook.run` with /bin/sh in the inventory's folder, with env added to duet's own environment.
 * Its output goes to `echo` line by line (duet's stderr: stdout may be a JSON document). At the
 * timeout the whole process group is killed.
 */
export function runHook(hook: Hook, env: Record<string, string>, cwd: string, echo: (line: string) => void): Promise<HookResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', hook.run], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const lines: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        lines.push(line);
        echo(line);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, hook.timeoutSeconds * 1000);
    const done = (code: number | undefined) => {
      clearTimeout(timer);
      resolve({ code, timedOut, tail: lines.slice(-3).join(' | ') });
    };
    child.on('error', (err) => {
      lines.push(err.message);
      done(127);
    });
    child.on('close', (code) => done(code ?? undefined));
  });
}

/** How a hook ended, in words, or undefined when it succeeded. */
export function hookFailure(name: SwapHookName, hook: Hook, result: HookResult): string | undefined {
  if (result.timedOut) return `the ${name} hook did not finish within ${hook.timeoutSeconds} s and was killed`;
  if (result.code === 0) return undefined;
  const how = result.code === undefined ? 'was killed by a signal' : `exited with status ${result.code}`;
  return `the ${name} hook ${how}${result.tail ? `: ${result.tail}` : ''}`;
}

/**
 * Runs the pair's pre_swap hook, if any; a failure refuses the swap (exit 6, nothing was changed:
 * it runs after pre-flight, before the first change).
 */
export async function preSwapHook(inv: Inventory, pair: PairSpec, from: NodeSpec, to: NodeSpec, log: (line: string) => void): Promise<void> {
  const hook = inv.hooks?.preSwap;
  if (!hook) return;
  log(`${pair.name}: pre_swap hook: ${hook.run}`);
  const failure = hookFailure('pre_swap', hook, await runHook(hook, swapHookEnv(inv, pair, from, to, 'pre_swap'), dirname(inv.file), (l) => log(`  ${l}`)));
  if (failure) {
    throw new ReplicationError(`swap of pair ${pair.name} refused, nothing was changed: ${failure}`, {
      hint: `the pre_swap hook (hooks.pre_swap.run in ${inv.file}) vetoes the swap; fix what it reports, or run it by hand with the DUET_* variables README "Hooks" lists`,
    });
  }
}

/** Runs the post_swap hook, if any; returns a warning when it failed (the swap stands). */
export async function postSwapHook(inv: Inventory, pair: PairSpec, from: NodeSpec, to: NodeSpec, log: (line: string) => void): Promise<string | undefined> {
  const hook = inv.hooks?.postSwap;
  if (!hook) return undefined;
  log(`${pair.name}: post_swap hook: ${hook.run}`);
  const failure = hookFailure('post_swap', hook, await runHook(hook, swapHookEnv(inv, pair, from, to, 'post_swap'), dirname(inv.file), (l) => log(`  ${l}`)));
  if (failure) log(`${pair.name}: WARNING: ${failure}; the swap stands`);
  return failure && `WARNING: ${failure}; the swap stands`;
}

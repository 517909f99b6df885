// The swap journal: one JSON object per line, appended and flushed to disk before each step runs, so
// a controller that dies mid-swap leaves enough behind for `swap --resume` to finish the swap or roll
// it back. One file per pair, outside the repository (the operator's home by default).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.ts';
import type { Account } from '../mysql/dialect.ts';

/** The steps of a swap, in the order it runs them (src/ops/swap.ts declares what each does and undoes). */
export const SWAP_STEPS = [
  'pre-sync',
  'maintenance',
  'freeze',
  'catch up',
  'promote',
  'vip down',
  'vip up',
  'fence',
  'align',
  'record',
  'maintenance end',
  'unlock',
] as const;
export type SwapStep = (typeof SWAP_STEPS)[number];

export type SwapOutcome = 'swapped' | 'rolled back';

export type JournalEntry =
  | { event: 'begin'; swap: string; cluster: string; pair: string; from: string; to: string; at: string }
  /** Written before the step runs: the step may have run partly, fully or not at all. */
  | { event: 'step'; step: SwapStep; at: string; locked?: Account[]; position?: string }
  /** Written once the step ran to its end. (Older journals have none: a later step begun says it.) */
  | { event: 'done'; step: SwapStep; at: string }
  | { event: 'end'; outcome: SwapOutcome; at: string; freezeMs?: number; error?: string };

/** What a journal says about the last swap it records. */
export interface JournalState {
  begin: Extract<JournalEntry, { event: 'begin' }>;
  /** Steps begun, in order. */
  steps: SwapStep[];
  /** Steps that ran to their end: those with a `done` line, and any step followed by another one. */
  done: SwapStep[];
  /** Accounts the freeze locked (to unlock on every way out). */
  locked: Account[];
  /** The old writer's final GTID position, once read. */
  position: string | undefined;
  end: Extract<JournalEntry, { event: 'end' }> | undefined;
}

/** ~/.duet/journal/<cluster>/<pair>.jsonl: the operator's, not the repository's. */
export function defaultJournalPath(cluster: string, pair: string): string {
  return join(homedir(), '.duet', 'journal', cluster, `${pair}.jsonl`);
}

/** The last swap in the journal's text (a journal holds every swap of its pair, oldest first). */
export function parseJournal(text: string, path: string): JournalState | undefined {
  let state: JournalState | undefined;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (const [i, line] of lines.entries()) {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      // A crash can cut the last line short; anything earlier is damage worth stopping for.
      if (i === lines.length - 1) break;
      throw new UsageError(`${path}:${i + 1}: not a journal line`, { hint: 'the swap journal was edited or damaged; move it aside after checking the pair with status' });
    }
    if (entry.event === 'begin') state = { begin: entry, steps: [], done: [], locked: [], position: undefined, end: undefined };
    else if (state && entry.event === 'step') {
      // A journal of an older duet has no done lines: its steps ran one after the other.
      const previous = state.steps.at(-1);
      if (previous !== undefined && !state.done.includes(previous)) state.done.push(previous);
      state.steps.push(entry.step);
      if (entry.locked) state.locked = entry.locked;
      if (entry.position !== undefined) state.position = entry.position;
    } else if (state && entry.event === 'done') {
      if (!state.done.includes(entry.step)) state.done.push(entry.step);
    } else if (state && entry.event === 'end') state.end = entry;
  }
  return state;
}

export function readJournal(path: string): JournalState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseJournal(text, path);
}

/** Appends entries, each flushed to disk before append() returns. */
export class Journal {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  append(entry: JournalEntry): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  step(step: SwapStep, extra: { locked?: Account[]; position?: string } = {}): void {
    this.append({ event: 'step', step, at: new Date().toISOString(), ...extra });
  }

  done(step: SwapStep): void {
    this.append({ event: 'done', step, at: new Date().toISOString() });
  }
}

// The swap's step runner (the shape of orchestrator's GracefulMasterTakeover): a swap is a list of
// steps, each `{ name, run, undo }`. The runner journals each step before it runs and once it ran to
// its end, and on a failure or after a crash (`--resume`, from the journal) does what the list
// declares: before the commit step is done, undo every step begun, last first; once it is done,
// finish the steps not done yet. Nothing here knows what a step does.
import type { Account } from '../mysql/dialect.ts';
import type { Journal, SwapStep } from './swap-journal.ts';

export interface Step<C> {
  name: SwapStep;
  run: (ctx: C) => Promise<void>;
  /**
   * Puts back what `run` changed. Idempotent: after a crash the step may have run partly, fully or
   * not at all. Absent: the step changes nothing that needs undoing.
   */
  undo?: (ctx: C) => Promise<void>;
  /** What the journal keeps with the step when it begins (for a resume in another process). */
  journal?: (ctx: C) => { locked?: Account[] };
}

/** How far a swap got: steps begun, and steps that ran to their end. */
export interface StepProgress {
  begun: SwapStep[];
  done: SwapStep[];
}

export type Recovery = 'swapped' | 'rolled back';

/**
 * Test hook (the resume e2e): DUET_SWAP_STOP_AFTER=<step> ends the process (exit 9) right after
 * the step was journaled done; `<step>!` right after it ran, before its done line (a step begun
 * but not finished). Nothing else is cleaned up: it is a crash of the controller.
 */
export const STOP_AFTER_ENV = 'DUET_SWAP_STOP_AFTER';

function stopHere(step: SwapStep, journaledDone: boolean): void {
  const wanted = process.env[STOP_AFTER_ENV];
  if (wanted === (journaledDone ? step : `${step}!`)) process.exit(9);
}

export class StepRunner<C> {
  readonly progress: StepProgress;

  /**
   * @param commit the step after which the swap stands: a failure later finishes it instead of
   *   undoing it
   * @param timed runs a step's body (or an undo) under a name: progress line, audit, duration
   */
  constructor(
    readonly steps: ReadonlyArray<Step<C>>,
    readonly commit: SwapStep,
    private readonly ctx: C,
    private readonly journal: Journal | undefined,
    private readonly timed: (name: string, body: () => Promise<void>) => Promise<void>,
    progress: StepProgress = { begun: [], done: [] },
  ) {
    if (!steps.some((s) => s.name === commit)) throw new Error(`StepRunner: the commit step ${commit} is not in the list`);
    const unknown = [...progress.begun, ...progress.done].filter((name) => !steps.some((s) => s.name === name));
    if (unknown.length > 0) throw new Error(`steps not in this swap's list: ${[...new Set(unknown)].join(', ')}`);
    this.progress = { begun: [...progress.begun], done: [...progress.done] };
  }

  /** The commit step ran to its end: the swap stands. */
  get committed(): boolean {
    return this.progress.done.includes(this.commit);
  }

  /** Runs every step not done yet, in order, each journaled when it begins and when it is done. */
  async forward(): Promise<void> {
    for (const step of this.steps) {
      if (this.progress.done.includes(step.name)) continue;
      this.journal?.step(step.name, step.journal?.(this.ctx));
      if (!this.progress.begun.includes(step.name)) this.progress.begun.push(step.name);
      await this.timed(step.name, () => step.run(this.ctx));
      stopHere(step.name, false);
      this.journal?.done(step.name);
      this.progress.done.push(step.name);
      stopHere(step.name, true);
    }
  }

  /** Undoes every step begun, the last one first. */
  async back(): Promise<void> {
    for (const step of [...this.steps].reverse()) {
      if (step.undo && this.progress.begun.includes(step.name)) await this.timed(`undo ${step.name}`, () => step.undo!(this.ctx));
    }
  }

  /** After a failure or a crash: finish once committed, else undo what was begun. */
  async recover(): Promise<Recovery> {
    if (this.committed) {
      await this.forward();
      return 'swapped';
    }
    await this.back();
    return 'rolled back';
  }
}

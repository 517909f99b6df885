// The swap journal (what --resume reads back after a crash) and the step runner (what a failure or
// a resume does with the journal: undo what was begun before the commit step, finish after it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Journal, parseJournal, readJournal, type SwapStep } from '../../src/ops/swap-journal.ts';
import { StepRunner, type Step } from '../../src/ops/swap-runner.ts';

describe('swap journal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'duet-journal-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const begin = { event: 'begin' as const, swap: 'id', cluster: 'shop', pair: 'main', from: 'db-01', to: 'db-02', at: 't' };

  test('appended steps read back: the steps begun, the locked accounts, the final position', () => {
    const journal = new Journal(join(dir, 'a', 'main.jsonl'));
    journal.append(begin);
    journal.step('freeze', { locked: [{ user: 'app', host: '%' }] });
    journal.done('freeze');
    journal.step('catch up');
    journal.done('catch up');
    journal.step('promote', { position: '1-1-40' });
    const state = readJournal(journal.path);
    assert.deepEqual(state?.steps, ['freeze', 'catch up', 'promote']);
    assert.deepEqual(state?.done, ['freeze', 'catch up'], 'promote was begun, not finished');
    assert.deepEqual(state?.locked, [{ user: 'app', host: '%' }]);
    assert.equal(state?.position, '1-1-40');
    assert.equal(state?.end, undefined, 'unfinished');
  });

  test('a journal without done lines (an older duet): a step followed by another one is done', () => {
    const text = [begin, { event: 'step', step: 'freeze', at: 't' }, { event: 'step', step: 'catch up', at: 't' }].map((e) => JSON.stringify(e)).join('\n');
    const state = parseJournal(text, 'j');
    assert.deepEqual(state?.steps, ['freeze', 'catch up']);
    assert.deepEqual(state?.done, ['freeze']);
  });

  test('the last swap counts; a finished one has an end', () => {
    const text = [begin, { event: 'end', outcome: 'swapped', at: 't' }, { ...begin, from: 'db-02', to: 'db-01' }, { event: 'step', step: 'freeze', at: 't' }]
      .map((e) => JSON.stringify(e))
      .join('\n');
    const state = parseJournal(text, 'j');
    assert.equal(state?.begin.from, 'db-02');
    assert.deepEqual(state?.locked, [], 'accounts locked by an earlier swap are not carried over');
    assert.equal(state?.end, undefined);
    assert.equal(parseJournal(text.split('\n').slice(0, 2).join('\n'), 'j')?.end?.outcome, 'swapped');
  });

  test('a last line cut short by a crash is ignored; damage elsewhere is an error', () => {
    const text = `${JSON.stringify(begin)}\n{"event":"step","step":"fre`;
    assert.deepEqual(parseJournal(text, 'j')?.steps, []);
    const path = join(dir, 'damaged.jsonl');
    writeFileSync(path, `${JSON.stringify(begin)}\nnot json\n${JSON.stringify({ event: 'step', step: 'freeze', at: 't' })}\n`);
    assert.throws(() => readJournal(path), /damaged\.jsonl:2: not a journal line/);
    assert.equal(readJournal(join(dir, 'missing.jsonl')), undefined);
  });
});

describe('swap step runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'duet-runner-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const begin = { event: 'begin' as const, swap: 'id', cluster: 'shop', pair: 'main', from: 'db-01', to: 'db-02', at: 't' };

  /** Steps that record what ran and what was undone; `fail` makes that step's run throw. */
  function steps(log: string[], fail?: SwapStep): Array<Step<null>> {
    const names: SwapStep[] = ['maintenance', 'freeze', 'catch up', 'promote', 'vip down', 'vip up', 'record', 'unlock'];
    return names.map((name) => ({
      name,
      run: async () => {
        if (name === fail) throw new Error(`${name} failed`);
        log.push(name);
      },
      ...(name === 'catch up' || name === 'record' ? {} : { undo: async () => void log.push(`undo ${name}`) }),
    }));
  }
  const timed = async (_: string, body: () => Promise<void>) => body();

  test('forward runs each step once, journaled begun and done', async () => {
    const log: string[] = [];
    const journal = new Journal(join(dir, 'forward.jsonl'));
    journal.append(begin);
    await new StepRunner(steps(log), 'vip up', null, journal, timed).forward();
    assert.deepEqual(log, ['maintenance', 'freeze', 'catch up', 'promote', 'vip down', 'vip up', 'record', 'unlock']);
    const state = readJournal(journal.path)!;
    assert.deepEqual(state.done, state.steps);
    assert.equal(state.steps.length, 8);
  });

  test('a failure before the commit step undoes every step begun, the failed one too, last first', async () => {
    const log: string[] = [];
    const runner = new StepRunner(steps(log, 'promote'), 'vip up', null, undefined, timed);
    await assert.rejects(runner.forward(), /promote failed/);
    assert.equal(runner.committed, false);
    assert.equal(await runner.recover(), 'rolled back');
    assert.deepEqual(log, ['maintenance', 'freeze', 'catch up', 'undo promote', 'undo freeze', 'undo maintenance']);
  });

  test('a failure after the commit step finishes the steps not done, the failed one first', async () => {
    const log: string[] = [];
    let fails = 1;
    const list = steps(log).map((s) => (s.name === 'record' ? { ...s, run: async () => (fails-- > 0 ? Promise.reject(new Error('record failed')) : void log.push('record')) } : s));
    const runner = new StepRunner(list, 'vip up', null, undefined, timed);
    await assert.rejects(runner.forward(), /record failed/);
    assert.equal(await runner.recover(), 'swapped');
    assert.deepEqual(log, ['maintenance', 'freeze', 'catch up', 'promote', 'vip down', 'vip up', 'record', 'unlock']);
  });

  test('resumed from a journal: the commit step begun, not done, is undone; done, the rest is finished', async () => {
    const undone: string[] = [];
    await new StepRunner(steps(undone), 'vip up', null, undefined, timed, { begun: ['maintenance', 'freeze', 'catch up', 'promote', 'vip down', 'vip up'], done: ['maintenance', 'freeze', 'catch up', 'promote', 'vip down'] }).recover();
    assert.deepEqual(undone, ['undo vip up', 'undo vip down', 'undo promote', 'undo freeze', 'undo maintenance']);
    const finished: string[] = [];
    const outcome = await new StepRunner(steps(finished), 'vip up', null, undefined, timed, { begun: ['maintenance', 'freeze', 'catch up', 'promote', 'vip down', 'vip up', 'record'], done: ['maintenance', 'freeze', 'catch up', 'promote', 'vip down', 'vip up'] }).recover();
    assert.equal(outcome, 'swapped');
    assert.deepEqual(finished, ['record', 'unlock']);
  });

  test('a journal naming steps the list does not have is refused', () => {
    assert.throws(() => new StepRunner(steps([]), 'vip up', null, undefined, timed, { begun: ['align'], done: [] }), /steps not in this swap's list: align/);
  });
});

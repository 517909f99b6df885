import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapLimit } from '../../src/ops/fan-out.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapLimit', () => {
  it('keeps the order of the items and at most `limit` running', async () => {
    let running = 0;
    let most = 0;
    const results = await mapLimit([30, 10, 20, 5, 1], 2, async (ms, i) => {
      most = Math.max(most, ++running);
      await sleep(ms);
      running--;
      return `${i}:${ms}`;
    });
    assert.deepEqual(results, ['0:30', '1:10', '2:20', '3:5', '4:1']);
    assert.equal(most, 2);
  });

  it('lets the other items pass a slow one', async () => {
    const finished: number[] = [];
    await mapLimit([200, 1, 1, 1, 1], 2, async (ms, i) => {
      await sleep(ms);
      finished.push(i);
    });
    assert.deepEqual(finished, [1, 2, 3, 4, 0]);
  });

  it('handles no items and a limit above their number', async () => {
    assert.deepEqual(await mapLimit([], 4, async () => 1), []);
    assert.deepEqual(await mapLimit([1, 2], 64, async (n) => n * 2), [2, 4]);
  });
});

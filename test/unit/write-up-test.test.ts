import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outageLimitSeconds, writeUpSteps } from '../../src/ops/write-up-test.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

test('the write-up\'s 17 steps, with the inventory\'s names', () => {
  const [main, shard2] = sampleInventory().pairs;
  const steps = writeUpSteps(main!);
  assert.equal(steps.length, 17);
  assert.deepEqual(
    steps.map((s) => s.name),
    ['run a query', 'shut down db-01', 'run a query', 'start db-01', 'shut down db-02', 'run a query', 'start db-02', 'shut down lb-01', 'run a query', 'shut down db-01', 'run a query', 'start db-01', 'shut down db-02', 'run a query', 'start db-02', 'start lb-01', 'run a query'],
  );
  assert.deepEqual(steps[1]!.fault, { verb: 'crash', host: 'db-01' });
  assert.deepEqual(steps[15]!.fault, { verb: 'boot', host: 'lb-01' });
  assert.equal(steps.filter((s) => s.query).length, 7);
  assert.equal(outageLimitSeconds(main!, 'lb-01'), 7);
  assert.equal(outageLimitSeconds(main!, 'db-01'), 32);
  assert.throws(() => writeUpSteps(shard2!), /no load_balancers/);
});

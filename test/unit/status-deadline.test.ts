import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransportError } from '../../src/errors.ts';
import type { NodeConnections } from '../../src/ops/pair-state.ts';
import { formatPairStatus, readPairStatus } from '../../src/ops/status.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

describe('status of a pair with a hung node', () => {
  it('reports the node that does not answer within the deadline, and the other one as it is', async () => {
    const inv = sampleInventory();
    const pair = inv.pairs[0]!;
    const [hung, refused] = pair.nodes;
    const conn = {
      ssh: (node: { name: string }) =>
        node.name === hung.name ? new Promise(() => {}) : Promise.reject(new TransportError('connection refused', { host: node.name })),
      mysql: () => new Promise(() => {}),
    } as unknown as NodeConnections;
    const started = performance.now();
    const status = await readPairStatus(conn, pair, 50);
    assert.ok(performance.now() - started < 1000, 'the deadline, not the hung node, ends the wait');
    const text = formatPairStatus(status);
    assert.match(text, new RegExp(`${hung.name}.*no answer within 0.05 s`));
    assert.match(text, new RegExp(`${refused.name}.*connection refused`));
  });
});

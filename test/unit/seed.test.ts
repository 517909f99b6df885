import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplicationError } from '../../src/errors.ts';
import type { NodeSpec } from '../../src/inventory/model.ts';
import { decideSeed, type NodeData } from '../../src/ops/seed.ts';

const node = (name: string) => ({ name }) as NodeSpec;
const data = (name: string, tables: Record<string, string | null>, replicaConfigured = false): NodeData => ({
  node: node(name),
  replicaConfigured,
  schemas: [...new Set(Object.keys(tables).map((t) => t.split('.')[0]!))].sort(),
  tables: new Map(Object.entries(tables)),
});

describe('decideSeed', () => {
  it('does nothing when both nodes are empty', () => {
    assert.equal(decideSeed(data('a', {}), data('b', {})).kind, 'none');
  });

  it('copies from the node with data to the empty one, either way round', () => {
    assert.deepEqual(decideSeed(data('a', { 'app.t': null, 'shop.u': null }), data('b', {})), { kind: 'copy', from: node('a'), to: node('b'), databases: ['app', 'shop'] });
    assert.deepEqual(decideSeed(data('a', {}), data('b', { 'app.t': null })), { kind: 'copy', from: node('b'), to: node('a'), databases: ['app'] });
  });

  it('never copies into a pair that was set up before', () => {
    assert.equal(decideSeed(data('a', { 'app.t': null }, true), data('b', {})).kind, 'none');
  });

  it('accepts identical data on both nodes', () => {
    assert.equal(decideSeed(data('a', { 'app.t': '12' }), data('b', { 'app.t': '12' })).kind, 'none');
  });

  it('refuses different data, naming the tables', () => {
    assert.throws(
      () => decideSeed(data('a', { 'app.t': '12', 'app.u': '1' }), data('b', { 'app.t': '13' })),
      (err: ReplicationError) => err instanceof ReplicationError && /it differs \(app\.t, app\.u\); nothing was changed/.test(err.message),
    );
  });
});

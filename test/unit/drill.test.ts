// The drill's figures from samples and acknowledgements, and its choice of scenarios. Pure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkWriteUp, chooseScenarios, drillEntry } from '../../src/ops/drill/drill.ts';
import { OPERATOR_DRILL, SCENARIOS, SHORT_DRILL } from '../../src/ops/drill/scenarios.ts';
import { compareRows, longestGapMs, servingView, writerFigures, type Sample } from '../../src/ops/drill/timeline.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

const s = (node: string, t: number, writable: boolean, vip = writable): Sample => ({ node, t, writable, vip });
const NODES = ['db1', 'db2'];

describe('writerFigures', () => {
  test('one writer throughout: nothing to report', () => {
    assert.deepEqual(writerFigures([s('db1', 0, true), s('db2', 0, false), s('db1', 500, true)], NODES, 100, 1000), { doubleWriterMs: 0, noWriterMs: 0 });
  });

  test('a handover: the gap between the old writer stopping and the new one starting is no writer', () => {
    const samples = [s('db1', 0, true), s('db2', 0, false), s('db1', 300, false), s('db2', 800, true)];
    assert.deepEqual(writerFigures(samples, NODES, 0, 1000), { doubleWriterMs: 0, noWriterMs: 500 });
  });

  test('an overlap is two writers, counted only inside the window', () => {
    const samples = [s('db1', 0, true), s('db2', 0, false), s('db2', 400, true), s('db1', 700, false)];
    assert.deepEqual(writerFigures(samples, NODES, 500, 1000), { doubleWriterMs: 200, noWriterMs: 0 });
  });

  test('samples arrive out of order and from unknown nodes', () => {
    const samples = [s('db2', 400, true), s('db1', 0, true), s('other', 100, true), s('db2', 0, false), s('db1', 700, false)];
    assert.deepEqual(writerFigures(samples, NODES, 0, 1000), { doubleWriterMs: 300, noWriterMs: 0 });
  });

  test('a node never sampled counts as not writable', () => {
    assert.deepEqual(writerFigures([], NODES, 0, 1000), { doubleWriterMs: 0, noWriterMs: 1000 });
  });
});

describe('longestGapMs', () => {
  test('from the fault to the first acknowledgement, between acknowledgements, and to the end', () => {
    assert.equal(longestGapMs([100, 200, 5200, 5300], 1000, 6000), 4200);
    assert.equal(longestGapMs([100, 1100, 1200], 1000, 9000), 7800, 'nothing acknowledged after 1200');
    assert.equal(longestGapMs([], 0, 300), 300);
    assert.equal(longestGapMs([5, 10, 20], 0, 25), 10);
  });
});

describe('compareRows', () => {
  test('lost and duplicated keys', () => {
    assert.deepEqual(compareRows([1, 2, 3], [1, 3, 3, 4]), { lost: [2], duplicated: [3] });
    assert.deepEqual(compareRows([1, 2], [1, 2]), { lost: [], duplicated: [] });
  });
});

describe('scenarios', () => {
  test('every scenario has a goal within the pair\'s timing, and the short drill exists', () => {
    const pair = sampleInventory().pairs[0]!;
    for (const scenario of SCENARIOS) assert.ok(scenario.goal(pair).outageMs > 0, scenario.name);
    for (const name of SHORT_DRILL) assert.ok(SCENARIOS.some((x) => x.name === name), name);
  });

  test('on real hosts only operator actions; unknown names are refused', () => {
    assert.deepEqual(OPERATOR_DRILL, ['stop-heartbeat', 'stop-mysql']);
    assert.deepEqual(chooseScenarios(['stop-mysql'], false).map((x) => x.name), ['stop-mysql']);
    assert.throws(() => chooseScenarios(['crash-writer', 'stop-mysql'], false), /crash-writer: only on the fixture hosts/);
    assert.throws(() => chooseScenarios(['meteor'], true), /no drill scenario meteor/);
    assert.equal(chooseScenarios(['crash-writer'], true).length, 1);
  });
});

describe('servingView', () => {
  const LBS = ['lb1', 'lb2'];
  const base = [s('db1', 10, true), s('db2', 10, false), s('lb1', 10, false, true), s('lb2', 10, false, false)];

  test('one writer holding the pair IP and one load balancer holding the tier IP: serving', () => {
    assert.deepEqual(servingView(base, NODES, LBS, new Set(), 0), { writers: ['db1'], ipHolders: ['db1'], lbIpHolders: ['lb1'], serving: true });
  });

  test('only samples after `since` count; a running host not sampled since is not known yet', () => {
    assert.equal(servingView(base, NODES, LBS, new Set(), 10), undefined);
    assert.equal(servingView([...base, s('db1', 20, true), s('db2', 20, false), s('lb1', 20, false, true)], NODES, LBS, new Set(), 10), undefined);
  });

  test('a powered-off host is left out, though its kernel state still shows the floating IP', () => {
    const samples = [s('db1', 20, false, true), s('db2', 20, true), s('lb1', 20, false, true), s('lb2', 20, false, false)];
    assert.equal(servingView(samples, NODES, LBS, new Set(), 0)!.serving, false, 'the pair IP on both');
    assert.deepEqual(servingView(samples, NODES, LBS, new Set(['db1']), 0), { writers: ['db2'], ipHolders: ['db2'], lbIpHolders: ['lb1'], serving: true });
    const lbMoved = [...samples, s('lb2', 30, false, true)];
    assert.deepEqual(servingView(lbMoved, NODES, LBS, new Set(['db1', 'lb1']), 0)!.lbIpHolders, ['lb2']);
  });

  test('two writers, or the tier IP on no load balancer, is not serving', () => {
    assert.equal(servingView([...base, s('db2', 20, true, false)], NODES, LBS, new Set(), 0)!.serving, false);
    assert.equal(servingView([...base, s('lb1', 20, false, false)], NODES, LBS, new Set(), 0)!.serving, false);
    assert.equal(servingView(base.slice(0, 2), NODES, [], new Set(), 0)!.serving, true, 'no tier: the pair alone');
  });
});

describe('the drill through the load balancers', () => {
  test("a pair with a tier: the client uses the tier's IP and port, the account is for the load balancers' addresses", () => {
    const pair = sampleInventory().pairs[0]!;
    const tier = pair.loadBalancers!;
    assert.deepEqual(drillEntry(pair, '192.0.2.50'), { address: tier.vip.address, port: tier.port, via: 'tier', accountHosts: tier.nodes.map((n) => n.address) });
    const bare = { ...pair, loadBalancers: undefined };
    assert.deepEqual(drillEntry(bare, '192.0.2.50'), { address: pair.vip.address, port: 3306, via: 'pair', accountHosts: ['192.0.2.50'] });
  });

  test("the write-up's test needs the tier and the fixtures, and runs alone", () => {
    const pair = sampleInventory().pairs[0]!;
    assert.deepEqual(checkWriteUp(pair, ['write-up'], true), []);
    assert.throws(() => checkWriteUp(pair, [], false), /fixture hosts only/);
    assert.throws(() => checkWriteUp({ ...pair, loadBalancers: undefined }, [], true), /has no load_balancers/);
    assert.throws(() => checkWriteUp(pair, ['write-up', 'crash-writer'], true), /runs alone, not with crash-writer/);
  });
});

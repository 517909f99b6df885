// convergeStages, applyWaves and heartbeatDelaySeconds: when converge starts Heartbeat (early, while
// the replicas and schemas are set up, where that is safe) and which nodes' files go at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyWaves, byNode, convergeStages, heartbeatDelaySeconds, type PairAction } from '../../src/plan/pair.ts';

const account = (node: string, create = true): PairAction => ({ kind: 'account', node, account: 'fence', create, text: `account on ${node}` });
const point = (node: string, source: string): PairAction => ({ kind: 'point-replica', node, source, text: `point ${node}` });
const start = (node: string, source: string): PairAction => ({ kind: 'start-replication', node, source, text: `start ${node}` });
const schema = (node: string): PairAction => ({ kind: 'create-database', node, database: 'app', text: `app on ${node}` });
const heartbeat = (node: string): PairAction => ({ kind: 'start-heartbeat', node, text: `heartbeat on ${node}` });
const readOnly = (node: string): PairAction => ({ kind: 'read-only', node, on: true, text: `read-only ${node}` });
const record: PairAction = { kind: 'record-writer', node: 'db1', text: 'record' };
const kinds = (actions: PairAction[]) => actions.map((a) => `${a.kind}@${a.node}`);

// A fresh pair, as planPair orders it.
const fresh = [account('db1'), account('db2'), point('db1', 'db2'), point('db2', 'db1'), start('db1', 'db2'), start('db2', 'db1'), schema('db1'), schema('db2'), readOnly('db2'), heartbeat('db1'), heartbeat('db2')];

test('a fresh pair: accounts and read_only before Heartbeat, replicas and schemas during its start-up wait', () => {
  const stages = convergeStages(fresh);
  assert.equal(stages.early, true);
  assert.deepEqual(kinds(stages.before), ['account@db1', 'account@db2', 'read-only@db2']);
  assert.deepEqual(kinds(stages.heartbeat), ['start-heartbeat@db1', 'start-heartbeat@db2']);
  assert.deepEqual(kinds(stages.during), ['point-replica@db1', 'point-replica@db2', 'start-replication@db1', 'start-replication@db2', 'create-database@db1', 'create-database@db2']);
  assert.deepEqual(stages.after, []);
});

test('copying data or resetting a password: everything before Heartbeat, in plan order', () => {
  const copy: PairAction = { kind: 'copy-data', node: 'db2', from: 'db1', databases: ['app'], text: 'copy' };
  for (const plan of [[account('db1'), copy, point('db2', 'db1'), heartbeat('db1'), heartbeat('db2')], [point('db2', 'db1'), account('db1', false), start('db2', 'db1'), heartbeat('db1'), heartbeat('db2')]]) {
    const stages = convergeStages(plan);
    assert.equal(stages.early, false);
    assert.deepEqual(stages.before, plan.slice(0, 3));
    assert.deepEqual(stages.during, []);
    assert.equal(stages.heartbeat.length, 2);
  }
});

test('without Heartbeat to start: the plan in order, the writer recorded last', () => {
  const stages = convergeStages([record, schema('db1'), start('db2', 'db1')]);
  assert.equal(stages.early, false);
  assert.deepEqual(kinds(stages.before), ['create-database@db1', 'start-replication@db2']);
  assert.deepEqual(stages.after, [record]);
  assert.deepEqual(convergeStages([]), { early: false, before: [], heartbeat: [], during: [], after: [] });
});

test('byNode keeps each node\'s actions in plan order', () => {
  assert.deepEqual(byNode(fresh.slice(0, 6)).map(kinds), [
    ['account@db1', 'point-replica@db1', 'start-replication@db1'],
    ['account@db2', 'point-replica@db2', 'start-replication@db2'],
  ]);
});

test('a pair being set up gets its files on both nodes at once; a serving pair one node at a time, the writer last', () => {
  const node = (name: string, holdsVip = false, heartbeatRunning = false) => ({ name, holdsVip, heartbeatRunning });
  const names = (waves: Array<Array<{ name: string }>>) => waves.map((w) => w.map((n) => n.name));
  assert.deepEqual(names(applyWaves([node('db1'), node('db2')], 'db1')), [['db1', 'db2']]);
  assert.deepEqual(names(applyWaves([node('db1', true, true), node('db2', false, true)], 'db1')), [['db2'], ['db1']]);
  // Heartbeat running on one node only (the IP nowhere) still counts as serving.
  assert.deepEqual(names(applyWaves([node('db1'), node('db2', false, true)], 'db2')), [['db1'], ['db2']]);
  assert.deepEqual(names(applyWaves([node('db1')], 'db1')), [['db1']]);
  assert.deepEqual(applyWaves([], 'db1'), []);
});

test('Heartbeat takes its resources no sooner than its fixed 10 s, or initdead when shorter', () => {
  const hb = (initdead: number) => ({ heartbeat: { keepalive: 1, warntime: 2, deadtime: 2, initdead, udpport: 694, autoFailback: false, interface: 'eth0' } }) as unknown as Parameters<typeof heartbeatDelaySeconds>[0];
  assert.equal(heartbeatDelaySeconds(hb(120)), 10);
  assert.equal(heartbeatDelaySeconds(hb(4)), 4);
});

test('the wait for the floating IP runs on the host: done once `ip` shows the address, else after the time', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { awaitAddressCommand } = await import('../../src/ops/services.ts');
  const dir = mkdtempSync(`${tmpdir()}/duet-ip-`);
  try {
    // A stand-in for `ip -4 -o addr show`.
    writeFileSync(`${dir}/ip`, '#!/bin/sh\necho "2: eth0    inet 192.0.2.100/24 brd 192.0.2.255 scope global eth0:0"\n', { mode: 0o755 });
    const run = (address: string) => {
      try {
        execFileSync('sh', ['-c', awaitAddressCommand(address, 1)], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
        return 0;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    assert.equal(run('192.0.2.100'), 0);
    // 192.0.2.10 is a prefix of the address shown, not the address.
    assert.equal(run('192.0.2.10'), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

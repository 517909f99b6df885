// swap's pre-flight decisions from plain data: what refuses, what --force may accept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InstanceState, ReplicaStatus } from '../../src/mysql/model.ts';
import { swapProblems, type NodeFacts } from '../../src/ops/swap-preflight.ts';
import { topologyView } from '../../src/ops/topology.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';
import { verifiedTls } from './helpers/tls.ts';

const pair = sampleInventory().pairs[0]!;
const [db1, db2] = pair.nodes;
const haresources = 'db-01 duet-writer IPaddr::192.0.2.100/24/eth0\n';

function replica(source: string, overrides: Partial<ReplicaStatus> = {}): ReplicaStatus {
  return {
    sourceHost: source, sourcePort: 3306, sourceUser: 'repl', ioState: '', ioRunning: 'Yes', sqlRunning: 'Yes', lastIoErrno: 0, lastIoError: '',
    lastSqlErrno: 0, lastSqlError: '', secondsBehind: 0, usingGtid: 'slave_pos', gtidIoPos: '', sourceServerId: 1, tls: verifiedTls, ...overrides,
  };
}

function node(spec: typeof db1, o: { readOnly: boolean; holdsVip: boolean; replica?: ReplicaStatus; heartbeat?: boolean; filters?: string; haresources?: string }): NodeFacts {
  const mysql: InstanceState = { version: '10.11.19-MariaDB', flavor: 'mariadb', serverId: 1, readOnly: o.readOnly, gtid: { current: '', binlog: '' }, replica: o.replica };
  const topology = topologyView(pair.nodes.map((n) => ({ node: n.name, address: n.address, role: n.name === 'db-01' ? 'writer' : 'reader', epoch: 1 })));
  return {
    live: { node: spec, holdsVip: o.holdsVip, heartbeatRunning: o.heartbeat ?? true, mysqlRunning: true, mysql },
    extras: { topology, haresources: o.haresources ?? haresources },
    binlogFilters: o.filters ?? 'do=shop,billing,duet; ignore=mysql,test',
  };
}

/** A healthy pair, db-01 the writer, with `change` applied to the target (db-02) and `old` to db-01. */
function facts(target: Partial<Parameters<typeof node>[1]> = {}, old: Partial<Parameters<typeof node>[1]> = {}): Map<string, NodeFacts> {
  return new Map([
    ['db-01', node(db1, { readOnly: false, holdsVip: true, replica: replica(db2.address), ...old })],
    ['db-02', node(db2, { readOnly: true, holdsVip: false, replica: replica(db1.address), ...target })],
  ]);
}

const problems = (f: Map<string, NodeFacts>) => swapProblems(pair, db1, db2, f, 5);

describe('swap pre-flight', () => {
  test('a healthy pair has no problem', () => {
    assert.deepEqual(problems(facts()), []);
  });

  test('the target\'s applier stopped is refused, never forceable', () => {
    const [p] = problems(facts({ replica: replica(db1.address, { sqlRunning: 'No', lastSqlErrno: 1146, lastSqlError: "Table 'app.t' doesn't exist" }) }));
    assert.equal(p?.forceable, false);
    assert.match(p?.message ?? '', /replication on db-02 \(from db-01\) is not running \(I\/O Yes, SQL No\): SQL error 1146/);
  });

  test('a lagging target and one-way replication are forceable', () => {
    assert.deepEqual(problems(facts({ replica: replica(db1.address, { secondsBehind: 40 }) })), [
      { message: 'db-02 is 40 s behind db-01 (limit 5 s): the freeze would last until it catches up', forceable: true },
    ]);
    const [oneWay] = problems(facts({}, { replica: replica(db2.address, { ioRunning: 'No', sqlRunning: 'No' }) }));
    assert.equal(oneWay?.forceable, true);
    assert.match(oneWay?.message ?? '', /replication on db-01 \(from db-02\) is stopped: db-02's writes would not reach db-01/);
  });

  test('the target replicating from elsewhere, two writers, a misplaced IP: refused', () => {
    const messages = (f: Map<string, NodeFacts>) => problems(f).map((p) => `${p.forceable}: ${p.message}`);
    assert.deepEqual(messages(facts({ replica: replica('192.0.2.99') })), ['false: db-02 does not replicate from db-01 (192.0.2.11): its source is 192.0.2.99']);
    assert.deepEqual(messages(facts({ readOnly: false })), ['false: db-02 is writable already: two writers; make one read-only first']);
    assert.deepEqual(messages(facts({ holdsVip: true })), ['false: the floating IP is not on db-01 alone (on: db-01, db-02)']);
    assert.deepEqual(messages(facts({}, { readOnly: true })), ['false: db-01 is read-only: there is no writer to swap from']);
  });

  test('differing binlog filters, Heartbeat down, no duet-writer resource: refused', () => {
    assert.match(problems(facts({ filters: 'do=shop; ignore=' }))[0]?.message ?? '', /the binlog filters differ \(db-01: do=shop,billing,duet; ignore=mysql,test; db-02: do=shop; ignore=\)/);
    assert.deepEqual(problems(facts({ heartbeat: false })).map((p) => p.message), ['Heartbeat is not running on db-02: the floating IP cannot move through it']);
    assert.deepEqual(problems(facts({ haresources: 'db-01 IPaddr::192.0.2.100/24/eth0\n' })).map((p) => p.message), ['haresources on db-02 has no duet-writer resource: run provision first']);
  });
});

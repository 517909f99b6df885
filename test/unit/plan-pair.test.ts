// planPair from plain facts: what provision plans for a pair, in which order, and nothing on a
// converged pair.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostStateError, ReplicationError } from '../../src/errors.ts';
import type { ReplicaStatus } from '../../src/mysql/model.ts';
import type { AccountFacts, ConvergeFacts, ConvergeNodeFacts, ServerFacts } from '../../src/ops/pair-state.ts';
import type { NodeData } from '../../src/ops/seed.ts';
import { convergeStages, planPair, type PairAction } from '../../src/plan/pair.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';
import { verifiedTls } from './helpers/tls.ts';

const inv = sampleInventory();
const pair = inv.pairs[0]!;
const [db1, db2] = pair.nodes;

const okAccount: AccountFacts = { exists: true, sslType: 'X509', granted: true, extraGrants: [], login: { kind: 'ok' } };

function replica(source: string, over: Partial<ReplicaStatus> = {}): ReplicaStatus {
  return {
    sourceHost: source,
    sourcePort: 3306,
    sourceUser: 'repl',
    ioState: '',
    ioRunning: 'Yes',
    sqlRunning: 'Yes',
    lastIoErrno: 0,
    lastIoError: '',
    lastSqlErrno: 0,
    lastSqlError: '',
    secondsBehind: 0,
    usingGtid: 'slave_pos',
    gtidIoPos: '',
    sourceServerId: 0,
    tls: verifiedTls,
    ...over,
  };
}

const topology = {
  writer: 'db-01',
  epoch: 3,
  rows: [
    { node: 'db-01', address: db1.address, role: 'writer' as const, epoch: 3 },
    { node: 'db-02', address: db2.address, role: 'reader' as const, epoch: 3 },
  ],
};

function server(over: Partial<ServerFacts> = {}): ServerFacts {
  return {
    flavor: 'mariadb',
    version: '10.11.19-MariaDB',
    gtidMode: 'slave_pos',
    readOnly: true,
    replica: undefined,
    accounts: { replication: okAccount, fence: okAccount },
    missingDatabases: [],
    missingDuetSchema: [],
    topology,
    missingBalancerAccounts: [],
    ...over,
  };
}

/** A converged pair: db-01 writes and holds the IP, both replicate, Heartbeat runs on both. */
function converged(): ConvergeFacts {
  const data = (node: typeof db1): NodeData => ({ node, replicaConfigured: true, schemas: [], tables: new Map() });
  return {
    nodes: [
      { node: db1, mysqlRunning: true, heartbeatRunning: true, holdsVip: true, server: server({ readOnly: false, replica: replica(db2.address) }) },
      { node: db2, mysqlRunning: true, heartbeatRunning: true, holdsVip: false, server: server({ replica: replica(db1.address) }) },
    ],
    seed: [data(db1), data(db2)],
  };
}

function withNode(facts: ConvergeFacts, name: string, change: (n: ConvergeNodeFacts) => void): ConvergeFacts {
  for (const n of facts.nodes) if (n.node.name === name) change(n);
  return facts;
}

const texts = (actions: PairAction[]) => actions.map((a) => a.text);

describe('planPair', () => {
  it('plans nothing on a converged pair', () => {
    assert.deepEqual(planPair(converged(), inv, pair, { writer: 'db-01' }), []);
  });

  it('plans a bare pair whose servers run: accounts, replication, schemas, Heartbeat, in order', () => {
    const bare = (n: typeof db1): ConvergeNodeFacts => ({
      node: n,
      mysqlRunning: true,
      heartbeatRunning: false,
      holdsVip: false,
      server: server({
        readOnly: false,
        accounts: { replication: { exists: false, sslType: '', granted: false, extraGrants: [], login: undefined }, fence: { exists: false, sslType: '', granted: false, extraGrants: [], login: undefined } },
        missingDatabases: ['shop', 'billing'],
        missingDuetSchema: ['database duet', 'table duet.canary', 'table duet.topology'],
        topology: undefined,
      }),
    });
    const empty = (node: typeof db1): NodeData => ({ node, replicaConfigured: false, schemas: [], tables: new Map() });
    const plan = planPair({ nodes: [bare(db1), bare(db2)], seed: [empty(db1), empty(db2)] }, inv, pair, { writer: 'db-01', restarting: new Set(['db-01', 'db-02']) });
    assert.deepEqual(texts(plan), [
      'create the replication account repl@192.0.2.12 on db-01',
      'create the fence account duet_fence@192.0.2.12 on db-01',
      'create the replication account repl@192.0.2.11 on db-02',
      'create the fence account duet_fence@192.0.2.11 on db-02',
      'point replication on db-01 from db-02 (192.0.2.12) as repl (not a replica yet)',
      'point replication on db-02 from db-01 (192.0.2.11) as repl (not a replica yet)',
      'start replication on db-01 from db-02 (192.0.2.12)',
      'start replication on db-02 from db-01 (192.0.2.11)',
      'create database shop on db-01',
      'create database billing on db-01',
      'create database duet, table duet.canary, table duet.topology on db-01',
      'create database shop on db-02',
      'create database billing on db-02',
      'create database duet, table duet.canary, table duet.topology on db-02',
      'start Heartbeat on db-01; it brings up the floating IP 192.0.2.100 and makes db-01 writable',
      'start Heartbeat on db-02',
    ]);
  });

  it('starts the writer\'s resources where Heartbeat runs on both nodes but neither has the floating IP, and makes no node writable itself', () => {
    // Seen on a loaded fleet: Heartbeat's start-up lost a message and never started what it holds.
    const facts = withNode(converged(), 'db-01', (n) => {
      n.holdsVip = false;
      n.server = server({ readOnly: false, replica: replica(db2.address) });
    });
    const plan = planPair(facts, inv, pair, { writer: 'db-01' });
    assert.deepEqual(
      plan.map((a) => `${a.kind}@${a.node}`),
      ['read-only@db-01', 'take-resources@db-01'],
      'writable without the IP: read-only first; the resource makes it writable with the IP',
    );
    assert.match(plan[1]!.text, /neither has the floating IP 192\.0\.2\.100: start the resources of db-01/);
    const stages = convergeStages(plan);
    assert.deepEqual(stages.heartbeat.map((a) => a.kind), ['take-resources'], 'awaited like a Heartbeat start');
    assert.deepEqual(stages.after, [], 'the resource records the writer');
  });

  it('does not take the resources while the peer holds the floating IP or its Heartbeat is down', () => {
    const onPeer = withNode(withNode(converged(), 'db-01', (n) => (n.holdsVip = false)), 'db-02', (n) => (n.holdsVip = true));
    assert.ok(!planPair(onPeer, inv, pair, { writer: 'db-01' }).some((a) => a.kind === 'take-resources'));
    const peerDown = withNode(withNode(converged(), 'db-01', (n) => (n.holdsVip = false)), 'db-02', (n) => (n.heartbeatRunning = false));
    assert.deepEqual(planPair(peerDown, inv, pair, { writer: 'db-01' }).map((a) => `${a.kind}@${a.node}`), ['read-only@db-01', 'start-heartbeat@db-02'], 'writable without the IP: read-only');
  });

  it('says what it will do where a server is not running yet, and starts it first', () => {
    const facts = withNode(converged(), 'db-02', (n) => {
      n.mysqlRunning = false;
      n.server = undefined;
    });
    facts.seed = undefined;
    const plan = planPair(facts, inv, pair, { writer: 'db-01' });
    assert.equal(plan[0]?.kind, 'start-mysql');
    assert.equal(plan[0]?.text, 'start MariaDB on db-02');
    assert.ok(texts(plan).includes('start replication on db-02 from db-01 (192.0.2.11)'));
    assert.ok(texts(plan).includes('create database shop on db-02 (if missing)'));
    assert.ok(!plan.some((a) => a.kind === 'read-only'), 'a server that starts is read-only, as db-02 should be');
  });

  it("plans the load balancers' locked accounts where they are missing (a server not running yet: if missing)", () => {
    const facts = withNode(converged(), 'db-01', (n) => (n.server = server({ readOnly: false, replica: replica(db2.address), missingBalancerAccounts: ['192.0.2.32'] })));
    assert.deepEqual(texts(planPair(facts, inv, pair, { writer: 'db-01' })), ['create the locked account duet_lb@192.0.2.32 on db-01']);
    const down = withNode(converged(), 'db-02', (n) => {
      n.mysqlRunning = false;
      n.server = undefined;
    });
    down.seed = undefined;
    assert.deepEqual(
      planPair(down, inv, pair, { writer: 'db-01' }).filter((a) => a.kind === 'balancer-account').map((a) => a.text),
      ['create the locked account duet_lb@192.0.2.31 on db-02 (if missing)', 'create the locked account duet_lb@192.0.2.32 on db-02 (if missing)'],
    );
  });

  it('repairs what verify sees: a stopped thread, read_only, Heartbeat', () => {
    const facts = withNode(converged(), 'db-02', (n) => {
      n.heartbeatRunning = false;
      n.server = server({ readOnly: false, replica: replica(db1.address, { sqlRunning: 'No' }) });
    });
    assert.deepEqual(texts(planPair(facts, inv, pair, { writer: 'db-01' })), [
      'start replication on db-02 from db-01 (192.0.2.11) (I/O thread Yes, SQL thread No)',
      'db-02 read_only ON',
      'start Heartbeat on db-02',
    ]);
  });

  it('makes the writer writable again after its restart, where Heartbeat runs', () => {
    assert.deepEqual(texts(planPair(converged(), inv, pair, { writer: 'db-01', restarting: new Set(['db-01']) })), ['db-01 read_only OFF (after its restart)']);
  });

  it('records the writer when duet.topology does not name it', () => {
    const facts = withNode(converged(), 'db-01', (n) => (n.server!.topology = { ...topology, writer: 'db-02' }));
    assert.deepEqual(texts(planPair(facts, inv, pair, { writer: 'db-01' })), ['record db-01 as the writer in duet.topology (a new epoch)']);
  });

  it('rotates a replication password: the replica is pointed with it before the account changes, then started', () => {
    const facts = withNode(converged(), 'db-01', (n) => (n.server!.accounts.replication = { ...okAccount, login: { kind: 'denied' } }));
    const plan = planPair(facts, inv, pair, { writer: 'db-01' });
    assert.deepEqual(
      plan.map((a) => `${a.kind} ${a.node}`),
      ['point-replica db-02', 'account db-01', 'start-replication db-02'],
    );
    assert.match(plan[1]!.text, /set the password and grant of the replication account repl@192\.0\.2\.12 on db-01 \(db-02 cannot log in with the inventory's password/);
    for (const action of plan) assert.doesNotMatch(JSON.stringify(action), /s3cret/);
  });

  it('sends the password again to a replica the source refuses (1045) although the account takes it', () => {
    const facts = withNode(converged(), 'db-02', (n) => (n.server!.replica = replica(db1.address, { ioRunning: 'No', lastIoErrno: 1045, lastIoError: 'Access denied' })));
    assert.deepEqual(
      planPair(facts, inv, pair, { writer: 'db-01' }).map((a) => `${a.kind} ${a.node}`),
      ['point-replica db-02', 'start-replication db-02'],
    );
  });

  it('converts a pair replicating in clear text: each replica pointed over TLS, then REQUIRE X509, then started', () => {
    const facts = converged();
    for (const n of facts.nodes) {
      n.server!.replica = { ...n.server!.replica!, tls: { enabled: false, verifyServerCert: false, ca: '', cert: '', key: '' } };
      n.server!.accounts.replication = { ...okAccount, sslType: '' };
    }
    const plan = planPair(facts, inv, pair, { writer: 'db-01' });
    assert.deepEqual(
      plan.map((a) => [a.kind, a.node]),
      [
        ['point-replica', 'db-01'],
        ['point-replica', 'db-02'],
        ['account', 'db-01'],
        ['account', 'db-02'],
        ['start-replication', 'db-01'],
        ['start-replication', 'db-02'],
      ],
    );
    assert.match(plan[0]!.text, /\(its connection does not use TLS with the source's certificate verified\)$/);
    assert.match(plan[2]!.text, /replication account repl@192\.0\.2\.12 on db-01 \(it does not require TLS with a client certificate \(REQUIRE X509; now none\)\)$/);
  });

  it('points a replica again that does not verify the source, or uses other files', () => {
    for (const tls of [{ ...verifiedTls, verifyServerCert: false }, { ...verifiedTls, ca: '/etc/ssl/certs/ca-certificates.crt' }]) {
      const facts = withNode(converged(), 'db-02', (n) => (n.server!.replica = { ...n.server!.replica!, tls }));
      assert.deepEqual(
        planPair(facts, inv, pair, { writer: 'db-01' }).map((a) => [a.kind, a.node]),
        [
          ['point-replica', 'db-02'],
          ['start-replication', 'db-02'],
        ],
      );
    }
  });

  it('rotates the fence password without touching replication', () => {
    const facts = withNode(converged(), 'db-02', (n) => (n.server!.accounts.fence = { ...okAccount, login: { kind: 'denied' } }));
    assert.deepEqual(planPair(facts, inv, pair, { writer: 'db-01' }).map((a) => `${a.kind} ${a.node}`), ['account db-02']);
  });

  it('plans a first copy of existing data, and refuses differing data', () => {
    const data = (node: typeof db1, tables: Record<string, string | null>): NodeData => ({
      node,
      replicaConfigured: false,
      schemas: [...new Set(Object.keys(tables).map((t) => t.split('.')[0]!))],
      tables: new Map(Object.entries(tables)),
    });
    const facts = converged();
    facts.seed = [data(db1, { 'shop.t': null }), data(db2, {})];
    assert.ok(planPair(facts, inv, pair, { writer: 'db-01' }).some((a) => a.kind === 'copy-data' && a.from === 'db-01' && a.node === 'db-02'));
    facts.seed = [data(db1, { 'shop.t': '1' }), data(db2, { 'shop.t': '2' })];
    assert.throws(() => planPair(facts, inv, pair, { writer: 'db-01' }), ReplicationError);
  });

  it('refuses an account with more than duet grants, and a server of another flavor', () => {
    const extra = withNode(converged(), 'db-01', (n) => (n.server!.accounts.replication = { ...okAccount, extraGrants: ['GRANT ALL PRIVILEGES ON *.* TO ...'] }));
    assert.throws(() => planPair(extra, inv, pair, { writer: 'db-01' }), (err: unknown) => err instanceof ReplicationError && /more privileges than REPLICATION SLAVE/.test(err.message));
    const mysql = withNode(converged(), 'db-02', (n) => (n.server!.flavor = 'mysql'));
    assert.throws(() => planPair(mysql, inv, pair, { writer: 'db-01' }), HostStateError);
  });
});

// The pair-level plan, beside planHost: what provision must do on a pair after its files, decided from
// the pair's live state (ops/pair-state.ts readConvergeFacts) and the inventory. Pure, so a dry run
// shows it and every rule is unit-tested from plain data; ops/converge.ts carries it out in order.
//
// Where a server is not running yet (a fresh pair before its files are applied), the answers are not
// known: the plan then says what will be done in terms that need none ("start replication on db2 from
// db1"), and converge plans again, from what the servers then say, before it changes anything there.
import { HostStateError } from '../errors.ts';
import { MYSQL_PORT, peerOf, type Inventory, type NodeSpec, type PairSpec } from '../inventory/model.ts';
import { extraGrantsError, FENCE_ACCOUNT, REPLICATION_ACCOUNT } from '../mysql/dao.ts';
import { usesTls, type ReplicaStatus } from '../mysql/model.ts';
import type { ConvergeFacts, ConvergeNodeFacts, ServerFacts } from '../ops/pair-state.ts';
import { decideSeed } from '../ops/seed.ts';
import { topologyNames } from '../ops/topology.ts';
import { FENCE_USER, LOAD_BALANCER_ACCOUNT, TLS_PATHS } from '../render/desired.ts';

export type AccountName = 'replication' | 'fence';

/** One change on a pair. `text` says it for people; the other fields are what converge needs. */
export type PairAction = { text: string } & (
  | { kind: 'start-mysql'; node: string }
  /** Create the account, or set its password and grant (a rotated secret, a missing grant). */
  | { kind: 'account'; node: string; account: AccountName; create: boolean }
  | { kind: 'copy-data'; node: string; from: string; databases: string[] }
  /** CHANGE MASTER on `node` to its peer, with the inventory's user and password (threads left stopped). */
  | { kind: 'point-replica'; node: string; source: string }
  | { kind: 'start-replication'; node: string; source: string }
  | { kind: 'create-database'; node: string; database: string }
  | { kind: 'create-duet-schema'; node: string; what: string[] }
  /** The locked account for a load balancer's address (`host`): its connections are greeted, not refused. */
  | { kind: 'balancer-account'; node: string; host: string }
  | { kind: 'read-only'; node: string; on: boolean }
  | { kind: 'start-heartbeat'; node: string }
  /**
   * Heartbeat runs on both nodes and the writer's says it holds its resources, but neither node has
   * the floating IP: start the writer's resource group as Heartbeat would have (its start-up can lose
   * that step: a message garbled in its FIFO, "msg2string: Message with zero fields" in ha-log).
   */
  | { kind: 'take-resources'; node: string }
  | { kind: 'record-writer'; node: string }
);

export interface PairPlanInput {
  /** The node that is (or becomes) writable and holds the floating IP. */
  writer: string;
  /** Nodes whose server the file changes restart (it then comes up read-only, as my.cnf says). */
  restarting?: ReadonlySet<string>;
}

const ER_ACCESS_DENIED = 1045;

/**
 * Everything the pair needs, in the order converge runs it: servers started; missing accounts
 * created; a first copy of existing data; each replica pointed at its peer; passwords reset (after
 * the replica that logs in with it was pointed at the new one, so an interruption in between leaves
 * a refused login the next run sees); replication started; schemas; read_only; Heartbeat started;
 * the writer recorded. Throws a refusal (nothing changed) for differing data or extra grants.
 */
export function planPair(facts: ConvergeFacts, inv: Inventory, pair: PairSpec, input: PairPlanInput): PairAction[] {
  const byName = new Map(facts.nodes.map((n) => [n.node.name, n]));
  const get = (node: NodeSpec) => byName.get(node.name)!;
  const writer = pair.nodes.find((n) => n.name === input.writer);
  if (!writer) throw new Error(`planPair: ${input.writer} is not a node of pair ${pair.name}`);

  for (const n of facts.nodes) checkServer(inv, n);

  const starts: PairAction[] = [];
  const creates: PairAction[] = [];
  const copies: PairAction[] = [];
  const points: PairAction[] = [];
  const resets: PairAction[] = [];
  const replication: PairAction[] = [];
  const schemas: PairAction[] = [];
  const roles: PairAction[] = [];
  const heartbeat: PairAction[] = [];
  const record: PairAction[] = [];
  const mysqlName = inv.mysql.flavor === 'mariadb' ? 'MariaDB' : 'MySQL';

  for (const n of facts.nodes) {
    if (!n.mysqlRunning) starts.push({ kind: 'start-mysql', node: n.node.name, text: `start ${mysqlName} on ${n.node.name}` });
  }

  // Accounts on each node, for its peer's logins. A password resend is also a reason to point the
  // peer's replica again: the replica keeps the password it was given.
  const resend = new Set<string>();
  for (const n of facts.nodes) {
    const peer = peerOf(pair, n.node);
    for (const account of ['replication', 'fence'] as const) {
      const user = account === 'replication' ? inv.mysql.replication.user : FENCE_USER;
      const what = `${account} account ${user}@${peer.address} on ${n.node.name}`;
      if (!n.server) {
        creates.push({ kind: 'account', node: n.node.name, account, create: true, text: `create the ${what} (or set its password, once its server answers)` });
        continue;
      }
      const facts = n.server.accounts[account];
      if (facts.extraGrants.length > 0) {
        throw extraGrantsError(n.node.name, { user, host: peer.address }, account === 'replication' ? REPLICATION_ACCOUNT : FENCE_ACCOUNT, facts.extraGrants);
      }
      if (!facts.exists) {
        creates.push({ kind: 'account', node: n.node.name, account, create: true, text: `create the ${what}` });
        continue;
      }
      const login = facts.login;
      const why =
        login?.kind === 'denied'
          ? `${peer.name} cannot log in with the inventory's password (rotated?)`
          : login?.kind === 'unknown'
            ? `the password could not be checked from ${peer.name}: ${login.reason}`
            : !facts.granted
              ? 'its grant is missing'
              : account === 'replication' && facts.sslType !== 'X509'
                ? `it does not require TLS with a client certificate (REQUIRE X509; now ${facts.sslType === '' ? 'none' : facts.sslType})`
                : undefined;
      if (why === undefined) continue;
      resets.push({ kind: 'account', node: n.node.name, account, create: false, text: `set the password and grant of the ${what} (${why})` });
      if (account === 'replication' && login?.kind !== 'ok') resend.add(peer.name);
    }
  }

  // A first setup where one node already holds data: copy it to the empty peer before replicating.
  if (facts.seed) {
    const seed = decideSeed(...facts.seed);
    if (seed.kind === 'copy') {
      copies.push({
        kind: 'copy-data',
        node: seed.to.name,
        from: seed.from.name,
        databases: seed.databases,
        text: `copy ${seed.databases.join(', ')} from ${seed.from.name} to ${seed.to.name} (${seed.to.name} holds none), and replicate from the copy's GTID position`,
      });
    }
  }

  for (const n of facts.nodes) {
    const peer = peerOf(pair, n.node);
    const from = `${n.node.name} from ${peer.name} (${peer.address})`;
    const replica = n.server?.replica;
    const pointWhy = !n.server
      ? 'once its server answers, unless it already does'
      : replica === undefined
        ? 'not a replica yet'
        : !pointsAt(replica, inv, peer, n.server)
          ? `it replicates from ${replica.sourceUser}@${replica.sourceHost}:${replica.sourcePort}`
          : !usesTls(replica, TLS_PATHS)
            ? 'its connection does not use TLS with the source\'s certificate verified'
            : resend.has(n.node.name)
            ? `the replication password of ${peer.name} is reset`
            : replica.lastIoErrno === ER_ACCESS_DENIED
              ? `${peer.name} refuses its password`
              : undefined;
    if (pointWhy !== undefined) {
      points.push({ kind: 'point-replica', node: n.node.name, source: peer.name, text: `point replication on ${from} as ${inv.mysql.replication.user} (${pointWhy})` });
    }
    const running = replica?.ioRunning === 'Yes' && replica.sqlRunning === 'Yes';
    if (pointWhy !== undefined || !running) {
      const state = replica && !running ? ` (I/O thread ${replica.ioRunning}, SQL thread ${replica.sqlRunning})` : '';
      replication.push({ kind: 'start-replication', node: n.node.name, source: peer.name, text: `start replication on ${from}${state}` });
    }
  }

  // The application's schemas and duet's own on both nodes, so the first write replicates.
  for (const n of facts.nodes) {
    const databases = n.server ? n.server.missingDatabases : inv.mysql.databases;
    const ifMissing = n.server ? '' : ' (if missing)';
    for (const database of databases) schemas.push({ kind: 'create-database', node: n.node.name, database, text: `create database ${database} on ${n.node.name}${ifMissing}` });
    const duet = n.server ? n.server.missingDuetSchema : ['duet schema'];
    if (duet.length > 0) schemas.push({ kind: 'create-duet-schema', node: n.node.name, what: duet, text: `create ${duet.join(', ')} on ${n.node.name}${ifMissing}` });
    // With load balancers: a locked account for each one's address (HAProxy's checks and verify's
    // probe are greeted, not refused with 1130, and verify can tell which server answered).
    const balancers = n.server ? n.server.missingBalancerAccounts : (pair.loadBalancers?.nodes ?? []).map((lb) => lb.address);
    for (const host of balancers) {
      schemas.push({ kind: 'balancer-account', node: n.node.name, host, text: `create the locked account ${LOAD_BALANCER_ACCOUNT}@${host} on ${n.node.name}${ifMissing}` });
    }
  }

  // Exactly one writer. A server that starts is read-only (my.cnf). The write role comes with the
  // floating IP: where Heartbeat is not running on the writer, its duet-writer resource makes the
  // writer writable as it brings the IP up (a server already writable when Heartbeat starts counts as
  // a running resource, and Heartbeat would never bring the IP up). Where Heartbeat runs and the
  // writer holds the IP, the writer is made writable here (after provision restarted its server, say);
  // never without the IP (its monitor would make it read-only again).
  const writerFacts = get(writer);
  const orphaned = facts.nodes.every((n) => n.heartbeatRunning && !n.holdsVip);
  for (const n of facts.nodes) {
    const wantReadOnly = n.node.name !== writer.name || !writerFacts.heartbeatRunning || !writerFacts.holdsVip;
    const readOnly = !n.server || input.restarting?.has(n.node.name) ? true : n.server.readOnly;
    if (readOnly !== wantReadOnly) {
      const after = n.server && readOnly !== n.server.readOnly ? ' (after its restart)' : '';
      roles.push({ kind: 'read-only', node: n.node.name, on: wantReadOnly, text: `${n.node.name} read_only ${wantReadOnly ? 'ON' : 'OFF'}${after}` });
    }
  }

  if (orphaned) {
    heartbeat.push({
      kind: 'take-resources',
      node: writer.name,
      text: `Heartbeat runs on both nodes but neither has the floating IP ${pair.vip.address}: start the resources of ${writer.name} (it brings up the IP and makes ${writer.name} writable)`,
    });
  }
  for (const n of facts.nodes) {
    if (n.heartbeatRunning) continue;
    const ip = n.node.name === writer.name ? `; it brings up the floating IP ${pair.vip.address} and makes ${writer.name} writable` : '';
    heartbeat.push({ kind: 'start-heartbeat', node: n.node.name, text: `start Heartbeat on ${n.node.name}${ip}` });
  }

  // Clients learn the writer from duet.topology. Heartbeat's resource records it when it makes the
  // writer writable (also when provision starts the resources); where Heartbeat already runs, provision
  // records it when the table does not name it.
  if (writerFacts.heartbeatRunning && !orphaned) {
    const topology = writerFacts.server?.topology;
    if (!topology || !topologyNames(topology, pair, writer.name)) {
      record.push({ kind: 'record-writer', node: writer.name, text: `record ${writer.name} as the writer in duet.topology (a new epoch)` });
    }
  }

  return [...starts, ...creates, ...copies, ...points, ...resets, ...replication, ...schemas, ...roles, ...heartbeat, ...record];
}

/** The server is the flavor the inventory says, and answers when it runs. */
function checkServer(inv: Inventory, n: ConvergeNodeFacts): void {
  if (n.mysqlRunning && !n.server) {
    throw new HostStateError(`the server runs but does not answer: ${n.serverError ?? 'no answer'}`, { host: n.node.name });
  }
  if (n.server && n.server.flavor !== inv.mysql.flavor) {
    throw new HostStateError(`the server is ${n.server.flavor} ${n.server.version}, but the inventory says mysql.flavor: ${inv.mysql.flavor}`, {
      host: n.node.name,
      hint: 'set mysql.flavor to what the hosts run',
    });
  }
}

/** The replica's source is the peer, as the inventory's user, with GTID. */
function pointsAt(replica: ReplicaStatus, inv: Inventory, peer: NodeSpec, server: ServerFacts): boolean {
  return replica.sourceHost === peer.address && replica.sourcePort === MYSQL_PORT && replica.sourceUser === inv.mysql.replication.user && replica.usingGtid === server.gtidMode;
}

/**
 * When converge runs a plan's actions, around Heartbeat's start. Heartbeat takes its resources no
 * sooner than about 10 s after both nodes started (its fixed start-up delay when both start at once;
 * initdead when a node hears no peer): an idle wait. So where it is safe, Heartbeat starts as soon
 * as the servers run with their new files and the accounts exist, and the replicas and schemas are
 * set up during that wait (`early`). The accounts (the fence account duet-writer logs in with) and
 * any read_only change come first, so the resource script finds the peer as before. Not early when
 * data is copied (it takes as long as the data) or a password is reset (its order with the replica
 * matters): then everything runs before Heartbeat starts, as the plan lists it.
 */
export interface ConvergeStages {
  early: boolean;
  /** Before Heartbeat starts. */
  before: PairAction[];
  /** Heartbeat started, on both nodes at once. */
  heartbeat: PairAction[];
  /** While Heartbeat starts (early only). */
  during: PairAction[];
  /** Once the floating IP is on the writer. */
  after: PairAction[];
}

export function convergeStages(plan: PairAction[]): ConvergeStages {
  const heartbeat: PairAction[] = plan.filter((a) => a.kind === 'start-heartbeat' || a.kind === 'take-resources');
  const after = plan.filter((a) => a.kind === 'record-writer');
  const rest = plan.filter((a) => !heartbeat.includes(a) && a.kind !== 'record-writer');
  const early =
    heartbeat.length > 0 && !rest.some((a) => a.kind === 'start-mysql' || a.kind === 'copy-data' || (a.kind === 'account' && !a.create));
  if (!early) return { early, before: rest, heartbeat, during: [], after };
  const first = (a: PairAction) => a.kind === 'account' || a.kind === 'read-only';
  return { early, before: rest.filter(first), heartbeat, during: rest.filter((a) => !first(a)), after };
}

/** A plan's actions by node, each node's in plan order (what may run on both nodes at once). */
export function byNode(actions: PairAction[]): PairAction[][] {
  const nodes = [...new Set(actions.map((a) => a.node))];
  return nodes.map((node) => actions.filter((a) => a.node === node));
}

/**
 * The order the nodes' files are applied in, as waves (each wave's nodes at once): the node that is
 * not the writer first, so a configuration the server rejects is found there before the writer is
 * touched and both servers are never down at once. A pair that serves no one yet (neither node holds
 * the floating IP or runs Heartbeat: a pair being set up) has nothing to keep up: both at once.
 */
export function applyWaves<T extends { name: string; holdsVip: boolean; heartbeatRunning: boolean }>(nodes: T[], writer: string): T[][] {
  const serving = nodes.some((n) => n.holdsVip || n.heartbeatRunning);
  if (!serving) return nodes.length > 0 ? [nodes] : [];
  const ordered = [...nodes].sort((a, b) => Number(a.name === writer) - Number(b.name === writer));
  return ordered.map((n) => [n]);
}

/**
 * The least time from Heartbeat's start on both nodes to its taking the resources: nodes that start
 * together each wait RQSTDELAY (10 s, fixed in Heartbeat) for the other to settle; a node that hears
 * no peer waits initdead.
 */
export function heartbeatDelaySeconds(pair: Pick<PairSpec, 'heartbeat'>): number {
  return Math.min(HEARTBEAT_RQSTDELAY_SECONDS, pair.heartbeat.initdead);
}
const HEARTBEAT_RQSTDELAY_SECONDS = 10;

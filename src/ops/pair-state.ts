// The live state of a pair, read from both nodes: what provision converges, verify checks, status
// shows and swap acts on. Reading only; every write lives with the operation that needs it.
import { TransportError } from '../errors.ts';
import { MYSQL_PORT, peerOf, type Flavor, type HostSpec, type Inventory, type NodeSpec, type PairSpec } from '../inventory/model.ts';
import type { Secret } from '../inventory/secret.ts';
import {
  closeSession,
  connectOverSsh,
  FENCE_ACCOUNT,
  missingAccounts,
  missingDatabases,
  readAccountGrants,
  readInstanceState,
  REPLICATION_ACCOUNT,
  tryLogin,
  type AccountGrants,
  type LoginResult,
  type MysqlSession,
  type ServiceAccountKind,
} from '../mysql/dao.ts';
import type { GtidMode } from '../mysql/dialect.ts';
import { missingDuetSchema } from '../mysql/duet-schema.ts';
import type { InstanceState, ReplicaStatus } from '../mysql/model.ts';
import { FENCE_USER, LOAD_BALANCER_ACCOUNT } from '../render/desired.ts';
import { readSeedData, type NodeData } from './seed.ts';
import { readTopology, type TopologyView } from './topology.ts';
import { parseFacts, probeScript, type HostFacts } from '../plan/facts.ts';
import type { HostPool } from '../transport/pool.ts';
import type { SshConnection } from '../transport/ssh.ts';

/** SSH and MySQL sessions to the nodes of one or more pairs, opened on first use and reused. */
export class NodeConnections {
  readonly #pool: HostPool;
  readonly #mysql = new Map<string, Promise<MysqlSession>>();

  constructor(pool: HostPool) {
    this.#pool = pool;
  }

  ssh(node: HostSpec): Promise<SshConnection> {
    return this.#pool.get(node);
  }

  mysql(node: NodeSpec): Promise<MysqlSession> {
    let session = this.#mysql.get(node.name);
    if (!session) {
      session = this.ssh(node).then((ssh) => connectOverSsh(ssh));
      // A failed login is not cached: the caller may start the server and ask again.
      session.catch(() => this.#mysql.delete(node.name));
      this.#mysql.set(node.name, session);
    }
    return session;
  }

  /** Forgets a node's MySQL session (after its server restarted, the old one is dead). */
  async dropMysql(node: NodeSpec): Promise<void> {
    const session = this.#mysql.get(node.name);
    this.#mysql.delete(node.name);
    const open = await session?.catch(() => undefined);
    if (open) await closeSession(open);
  }

  async closeMysql(): Promise<void> {
    const sessions = [...this.#mysql.values()];
    this.#mysql.clear();
    await Promise.all(sessions.map(async (s) => (await s.catch(() => undefined)) && closeSession(await s)));
  }
}

export interface HostProbe {
  heartbeatRunning: boolean;
  mysqlRunning: boolean;
  /** Global IPv4 addresses on the host, "a.b.c.d". */
  addresses: string[];
}

export interface NodeLiveState {
  node: NodeSpec;
  holdsVip: boolean;
  heartbeatRunning: boolean;
  mysqlRunning: boolean;
  /** undefined when the server could not be reached; mysqlError says why. */
  mysql: InstanceState | undefined;
  mysqlError?: string;
}

export interface PairLiveState {
  pair: PairSpec;
  nodes: [NodeLiveState, NodeLiveState];
}

/** Which daemons run and the host's addresses: the live sections of the facts script, read alone. */
export async function probeHost(ssh: SshConnection): Promise<HostProbe> {
  return probeOf(parseFacts((await ssh.run(probeScript())).stdout));
}

/** The probe's part of facts already gathered (the facts script has the same live sections). */
export function probeOf(facts: HostFacts): HostProbe {
  return {
    heartbeatRunning: facts.running.heartbeat,
    mysqlRunning: facts.running.mysql,
    addresses: facts.addresses.map((a) => a.address),
  };
}

/**
 * The node's daemons, addresses and server state. `known`: the probe from facts this run has just
 * gathered on the host (one SSH command fewer); when it resolves to undefined, the host is probed.
 */
export async function readNodeState(conn: NodeConnections, pair: PairSpec, node: NodeSpec, known?: Promise<HostProbe | undefined>): Promise<NodeLiveState> {
  const [probe, server] = await Promise.all([
    (async () => (await known) ?? probeHost(await conn.ssh(node)))(),
    conn.mysql(node).then(readInstanceState).then(
      (mysql) => ({ mysql }),
      (err: unknown) => ({ mysqlError: err instanceof Error ? err.message : String(err) }),
    ),
  ]);
  return {
    node,
    holdsVip: probe.addresses.includes(pair.vip.address),
    heartbeatRunning: probe.heartbeatRunning,
    mysqlRunning: probe.mysqlRunning,
    mysql: undefined,
    ...server,
  };
}

export async function readPairState(conn: NodeConnections, pair: PairSpec): Promise<PairLiveState> {
  const [a, b] = await Promise.all(pair.nodes.map((node) => readNodeState(conn, pair, node)));
  return { pair, nodes: [a!, b!] };
}

/** The nodes of the pair that hold the floating IP now. */
export async function vipHolders(conn: NodeConnections, pair: PairSpec): Promise<string[]> {
  const holders: string[] = [];
  for (const node of pair.nodes) {
    if ((await probeHost(await conn.ssh(node))).addresses.includes(pair.vip.address)) holders.push(node.name);
  }
  return holders;
}

/** What a MySQL port says to a new TCP connection, before any login. */
export type PortAnswer =
  | { kind: 'greeting'; serverVersion: string; connectionId: number }
  /** The server refused at once, e.g. 1130 when no account matches the client's host. */
  | { kind: 'error'; code: number; message: string }
  /** No server answer: refused, unreachable, timed out, or closed without a packet. */
  | { kind: 'no answer'; reason: string };

/**
 * Parses the first packet a MySQL/MariaDB server sends: the handshake (protocol 10: version, then
 * the connection id) or an error packet. undefined while the packet is incomplete.
 */
export function parseServerGreeting(data: Buffer): PortAnswer | undefined {
  if (data.length < 4) return undefined;
  const length = data.readUIntLE(0, 3);
  if (data.length < 4 + length) return undefined;
  const payload = data.subarray(4, 4 + length);
  if (payload[0] === 0x0a) {
    const end = payload.indexOf(0, 1);
    if (end === -1 || payload.length < end + 5) return { kind: 'no answer', reason: 'a malformed handshake packet' };
    return { kind: 'greeting', serverVersion: payload.subarray(1, end).toString('latin1'), connectionId: payload.readUInt32LE(end + 1) };
  }
  if (payload[0] === 0xff && payload.length >= 3) {
    // After the code: '#' and a five-character SQLSTATE (protocol 4.1), then the message.
    const text = payload.subarray(3).toString('utf8');
    return { kind: 'error', code: payload.readUInt16LE(1), message: text.startsWith('#') ? text.slice(6) : text };
  }
  return { kind: 'no answer', reason: `a packet that is not a MySQL handshake (first byte 0x${(payload[0] ?? 0).toString(16)})` };
}

export interface PortProbe {
  answer: PortAnswer;
  /** Ends the TCP connection; until then a greeted connection stays a pending login on the server. */
  close(): void;
}

/**
 * Opens a TCP connection to host:port from the SSH host (as that host's own traffic, through its
 * routes and the target's firewall) and reads the server's first packet. A silently dropped SYN
 * hangs until timeoutMs.
 */
export async function probeMysqlPort(ssh: SshConnection, host: string, port: number, timeoutMs: number): Promise<PortProbe> {
  const deadline = Date.now() + timeoutMs;
  const opening = ssh.forwardTcp(host, port);
  const opened = await withTimeout(opening, timeoutMs).catch((err: unknown) => (err instanceof TransportError ? err : Promise.reject(err)));
  if (opened === undefined) {
    // sshd confirms the channel only once its connect() completes; drop it whenever it does.
    opening.then((stream) => stream.destroy(), () => {});
    return { answer: { kind: 'no answer', reason: `no TCP answer within ${timeoutMs} ms (packets dropped?)` }, close: () => {} };
  }
  if (opened instanceof TransportError) return { answer: { kind: 'no answer', reason: opened.message }, close: () => {} };
  const stream = opened;
  stream.on('error', () => {});
  const answer = await new Promise<PortAnswer>((resolve) => {
    let received = Buffer.alloc(0);
    const finish = (result: PortAnswer) => {
      clearTimeout(timer);
      stream.removeAllListeners('data');
      resolve(result);
    };
    const timer = setTimeout(() => finish({ kind: 'no answer', reason: `connected, but no greeting within ${timeoutMs} ms` }), Math.max(0, deadline - Date.now()));
    stream.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parseServerGreeting(received);
      if (parsed) finish(parsed);
    });
    stream.once('close', () => finish({ kind: 'no answer', reason: 'the connection was closed without a greeting' }));
  });
  return { answer, close: () => stream.destroy() };
}

/** The promise's value, or undefined when it did not settle within ms. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

// ---- What provision converges: everything planPair (src/plan/pair.ts) decides from, read in one place. ----

/** A service account on a node: the login its peer uses (replication, fencing). */
export interface AccountFacts extends AccountGrants {
  /** The peer logging in to this server as the account with the inventory's password; undefined when the account is missing. */
  login: LoginResult | undefined;
}

/** What a running server says, for planPair. */
export interface ServerFacts {
  flavor: Flavor;
  version: string;
  /** What a replica pointed at its peer by duet reports (dialect.gtidMode). */
  gtidMode: GtidMode;
  readOnly: boolean;
  replica: ReplicaStatus | undefined;
  accounts: { replication: AccountFacts; fence: AccountFacts };
  /** The inventory's replicated schemas the server does not have. */
  missingDatabases: string[];
  /** What of duet's own schema is missing ("database duet", "table duet.canary"). */
  missingDuetSchema: string[];
  /** undefined when duet.topology cannot be read (not created yet). */
  topology: TopologyView | undefined;
  /** The load balancers' addresses without their locked account (LOAD_BALANCER_ACCOUNT) here. */
  missingBalancerAccounts: string[];
}

export interface ConvergeNodeFacts {
  node: NodeSpec;
  mysqlRunning: boolean;
  heartbeatRunning: boolean;
  holdsVip: boolean;
  /** undefined while the server is not running (or does not answer: serverError says why). */
  server: ServerFacts | undefined;
  serverError?: string;
}

export interface ConvergeFacts {
  nodes: [ConvergeNodeFacts, ConvergeNodeFacts];
  /** The data on both nodes (for a first copy); undefined unless both servers answer. */
  seed: [NodeData, NodeData] | undefined;
}

/** How long a login test from the peer may take (a dropped SYN costs all of it). */
const LOGIN_TEST_MS = 5000;

/**
 * The live state of a pair that provision converges, read from both nodes: daemons and the floating
 * IP, and from each running server its role, replica, accounts (with a login test from the peer:
 * a password cannot be read back), schemas, topology and data. Reading only.
 */
/** `known`: probes from facts this run has just gathered, by node name (those hosts are not probed again). */
export async function readConvergeFacts(inv: Inventory, pair: PairSpec, conn: NodeConnections, known?: ReadonlyMap<string, HostProbe>): Promise<ConvergeFacts> {
  const nodes = (await Promise.all(pair.nodes.map((node) => readConvergeNode(inv, pair, conn, node, known?.get(node.name))))) as [ConvergeNodeFacts, ConvergeNodeFacts];
  const seed = nodes.every((n) => n.server) ? await readSeedData(inv, pair, conn) : undefined;
  return { nodes, seed };
}

async function readConvergeNode(inv: Inventory, pair: PairSpec, conn: NodeConnections, node: NodeSpec, known: HostProbe | undefined): Promise<ConvergeNodeFacts> {
  const probe = known ?? (await probeHost(await conn.ssh(node)));
  const facts: ConvergeNodeFacts = {
    node,
    mysqlRunning: probe.mysqlRunning,
    heartbeatRunning: probe.heartbeatRunning,
    holdsVip: probe.addresses.includes(pair.vip.address),
    server: undefined,
  };
  if (!probe.mysqlRunning) return facts;
  let session: MysqlSession;
  try {
    session = await conn.mysql(node);
  } catch (err) {
    facts.serverError = err instanceof Error ? err.message : String(err);
    return facts;
  }
  const peer = peerOf(pair, node);
  const account = async (user: string, password: Secret, kind: ServiceAccountKind): Promise<AccountFacts> => {
    const { password: stored, ...grants } = await readAccountGrants(session, { user, host: peer.address }, kind, password);
    if (!grants.exists) return { ...grants, login: undefined };
    // The stored hash answers where it can; otherwise the account logs in as the peer's replica does
    // (over TLS with the peer's certificate, for the replication account).
    const tls = kind.requireX509 ? inv.tlsMaterial?.get(peer.name) : undefined;
    const login = stored ?? (await tryLogin(await conn.ssh(peer), node.address, MYSQL_PORT, user, password, LOGIN_TEST_MS, tls));
    return { ...grants, login };
  };
  // Asked at once: the login tests run on the peer over SSH while this server answers the queries.
  const balancers = (pair.loadBalancers?.nodes ?? []).map((lb) => ({ user: LOAD_BALANCER_ACCOUNT, host: lb.address }));
  const [state, replication, fence, databases, duetSchema, topology, balancerAccounts] = await Promise.all([
    readInstanceState(session),
    account(inv.mysql.replication.user, inv.mysql.replication.password, REPLICATION_ACCOUNT),
    account(FENCE_USER, pair.failover.fencePassword, FENCE_ACCOUNT),
    missingDatabases(session, inv.mysql.databases),
    missingDuetSchema(session),
    readTopology(session).catch(() => undefined),
    missingAccounts(session, balancers),
  ]);
  facts.server = {
    flavor: session.dialect.flavor,
    version: session.dialect.version.text,
    gtidMode: session.dialect.gtidMode,
    readOnly: state.readOnly,
    replica: state.replica,
    accounts: { replication, fence },
    missingDatabases: databases,
    missingDuetSchema: duetSchema,
    topology,
    missingBalancerAccounts: balancerAccounts.map((a) => a.host),
  };
  return facts;
}

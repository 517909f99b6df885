// The live state of a pair, read from both nodes: what provision converges, verify checks, status
// shows and swap acts on. Reading only; every write lives with the operation that needs it.
import { TransportError } from '../errors.ts';
import type { HostSpec, NodeSpec, PairSpec } from '../inventory/model.ts';
import { closeSession, connectOverSsh, readInstanceState, type MysqlSession } from '../mysql/dao.ts';
import type { InstanceState } from '../mysql/model.ts';
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

const PROBE_SCRIPT = [
  'for p in heartbeat mariadbd mysqld; do if pidof "$p" >/dev/null 2>&1; then echo "running $p"; fi; done',
  "ip -4 -o addr show scope global | awk '{print \"address\", $4}'",
].join('\n');

export function parseProbe(output: string): HostProbe {
  const lines = output.split('\n');
  return {
    heartbeatRunning: lines.includes('running heartbeat'),
    mysqlRunning: lines.includes('running mariadbd') || lines.includes('running mysqld'),
    addresses: lines.filter((l) => l.startsWith('address ')).map((l) => l.slice('address '.length).split('/')[0] ?? ''),
  };
}

export async function probeHost(ssh: SshConnection): Promise<HostProbe> {
  return parseProbe((await ssh.run(PROBE_SCRIPT)).stdout);
}

export async function readNodeState(conn: NodeConnections, pair: PairSpec, node: NodeSpec): Promise<NodeLiveState> {
  const probe = await probeHost(await conn.ssh(node));
  const state: NodeLiveState = {
    node,
    holdsVip: probe.addresses.includes(pair.vip.address),
    heartbeatRunning: probe.heartbeatRunning,
    mysqlRunning: probe.mysqlRunning,
    mysql: undefined,
  };
  try {
    state.mysql = await readInstanceState(await conn.mysql(node));
  } catch (err) {
    state.mysqlError = err instanceof Error ? err.message : String(err);
  }
  return state;
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

// The live state of a pair, read from both nodes: what provision converges, verify checks, status
// shows and swap acts on. Reading only; every write lives with the operation that needs it.
import type { NodeSpec, PairSpec } from '../inventory/model.ts';
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

  ssh(node: NodeSpec): Promise<SshConnection> {
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

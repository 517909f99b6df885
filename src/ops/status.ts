// status: what each pair looks like right now, writer first, with loud warnings for the states that
// hurt (two writers, none, the floating IP on the wrong node or on both, a stale writer). Reading
// only. assessPair is pure, so every warning is unit-tested from plain data.
import { TransportError } from '../errors.ts';
import type { Inventory, PairSpec } from '../inventory/model.ts';
import { selectPairs } from '../inventory/select.ts';
import { semiSyncReplicaCount } from '../mysql/dao.ts';
import { replicaError, usesTls } from '../mysql/model.ts';
import { HA_LOG_PATH, HARESOURCES_PATH, recordedWriter, TLS_PATHS } from '../render/desired.ts';
import { shellQuote } from '../transport/shell.ts';
import { HostPool } from '../transport/pool.ts';
import { mapLimit } from './fan-out.ts';
import { NodeConnections, readNodeState, type NodeLiveState } from './pair-state.ts';
import { readTopology, type TopologyView } from './topology.ts';
import { formatTierStatus, readTierStatus, type TierStatus } from './load-balancers.ts';

export interface ReplicationStatus {
  /** running: both threads run; connecting: the I/O thread is still reaching its source. */
  state: 'running' | 'connecting' | 'stopped' | 'not configured' | 'unknown';
  secondsBehind: number | null;
  lastError: string | undefined;
  /** Over TLS with the source's certificate verified (duet's files); undefined when not configured. */
  tls: boolean | undefined;
}

export interface NodeStatus {
  node: string;
  address: string;
  /** Why SSH to the node failed; everything else about it is then unknown. */
  unreachable: string | undefined;
  holdsVip: boolean;
  /** undefined when the server could not be asked. */
  writable: boolean | undefined;
  replication: ReplicationStatus;
  heartbeatRunning: boolean;
  mysqlRunning: boolean;
  mysqlError: string | undefined;
  /** What this node's duet.topology says (undefined when it could not be read). */
  topology: { writer: string | undefined; epoch: number } | undefined;
  /** Writable, but the pair has since granted the write role at a higher epoch: its writes are unsafe. */
  stale: boolean;
  /** The writer this node's haresources names (Heartbeat's choice when both nodes start together). */
  recordedWriter: string | undefined;
  /**
   * A writable node's semi-sync replicas: how many replicas its commits wait for (0: it commits
   * alone); undefined on a read-only node, or where duet does not use semi-sync (MySQL).
   */
  semiSyncReplicas: number | undefined;
}

export interface PairStatus {
  pair: string;
  vip: string;
  /** The one writable node, when there is exactly one. */
  writer: string | undefined;
  /** The highest write-role epoch either node knows. */
  epoch: number;
  /** The writer first, then the other node. */
  nodes: NodeStatus[];
  warnings: string[];
  /**
   * The last moves of the write role and why, newest last: the `ROLE:` lines duet's resource script
   * and monitor write to Heartbeat's log on either node.
   */
  lastMoves: string[];
  /** The load-balanced tier in front of the pair, when it has one (its own warnings included). */
  loadBalancers?: TierStatus;
}

/** What status reads from a node beyond the shared live state. */
export interface NodeExtras {
  unreachable?: string;
  topology: TopologyView | undefined;
  haresources: string | undefined;
  /** `ROLE:` lines of the node's Heartbeat log (its last few). */
  roleLines?: string[];
  /** A writable node's semiSyncReplicaCount. */
  semiSyncReplicas?: number;
}

export function replicationStatus(live: NodeLiveState): ReplicationStatus {
  const replica = live.mysql?.replica;
  if (!live.mysql) return { state: 'unknown', secondsBehind: null, lastError: undefined, tls: undefined };
  if (!replica) return { state: 'not configured', secondsBehind: null, lastError: undefined, tls: undefined };
  const lastError = replicaError(replica);
  const state =
    replica.ioRunning === 'Yes' && replica.sqlRunning === 'Yes'
      ? 'running'
      : replica.sqlRunning === 'Yes' && (replica.ioRunning === 'Connecting' || replica.ioRunning === 'Preparing')
        ? 'connecting'
        : 'stopped';
  return { state, secondsBehind: replica.secondsBehind, lastError, tls: usesTls(replica, TLS_PATHS) };
}

export function assessPair(pair: PairSpec, live: NodeLiveState[], extras: Map<string, NodeExtras>): PairStatus {
  const epoch = Math.max(0, ...[...extras.values()].map((e) => e.topology?.epoch ?? 0));
  const nodes: NodeStatus[] = live.map((l) => {
    const extra = extras.get(l.node.name);
    const writable = l.mysql === undefined ? undefined : !l.mysql.readOnly;
    const own = extra?.topology;
    const superseded = own !== undefined && (own.epoch < epoch || (own.writer !== undefined && own.writer !== l.node.name));
    return {
      node: l.node.name,
      address: l.node.address,
      unreachable: extra?.unreachable,
      holdsVip: l.holdsVip,
      writable,
      replication: replicationStatus(l),
      heartbeatRunning: l.heartbeatRunning,
      mysqlRunning: l.mysqlRunning,
      mysqlError: l.mysqlError,
      topology: own && { writer: own.writer, epoch: own.epoch },
      stale: writable === true && superseded,
      recordedWriter: recordedWriter(pair, extra?.haresources),
      semiSyncReplicas: writable === true ? extra?.semiSyncReplicas : undefined,
    };
  });
  const writers = nodes.filter((n) => n.writable === true);
  const holders = nodes.filter((n) => n.holdsVip);
  const writer = writers.length === 1 ? writers[0]!.node : undefined;
  // The writer first (what users look for); without exactly one, the node holding the IP first.
  const rank = (n: NodeStatus) => (n.writable === true ? 0 : 2) + (n.holdsVip ? 0 : 1);
  nodes.sort((a, b) => rank(a) - rank(b));

  const warnings: string[] = [];
  for (const n of nodes) {
    if (n.unreachable) warnings.push(`cannot reach ${n.node} over SSH: ${n.unreachable}`);
    else if (n.writable === undefined) warnings.push(`cannot ask MySQL on ${n.node}: ${n.mysqlError ?? 'no answer'}`);
  }
  if (writers.length === 2) {
    warnings.push(`BOTH nodes are writable: writes on both sides can conflict; make one read-only (readonly on NODE)`);
  } else if (writers.length === 0 && nodes.every((n) => n.writable !== undefined)) {
    warnings.push('NEITHER node is writable: the application cannot write');
  }
  if (holders.length === 2) {
    warnings.push(`the floating IP ${pair.vip.address} is on BOTH nodes: clients reach either at random (split brain)`);
  } else if (holders.length === 0) {
    warnings.push(`the floating IP ${pair.vip.address} is on NO node: the application reaches no server`);
  } else if (holders[0]!.writable === false) {
    warnings.push(`the floating IP ${pair.vip.address} is on the READ-ONLY node ${holders[0]!.node}: the application's writes fail`);
  }
  for (const n of nodes) {
    if (n.stale) {
      warnings.push(`${n.node} is STALE: writable, but the pair granted the write role at epoch ${epoch}${n.topology ? ` (its own table: epoch ${n.topology.epoch}, writer ${n.topology.writer ?? 'none'})` : ''}; make it read-only`);
    }
    if (n.writable !== undefined && n.replication.state !== 'running') {
      warnings.push(`replication on ${n.node} is ${n.replication.state}${n.replication.lastError ? `: ${n.replication.lastError}` : ''}`);
    }
    if (n.node === writer && n.semiSyncReplicas === 0) {
      const peer = nodes.find((o) => o.node !== n.node)?.node ?? 'its peer';
      warnings.push(`the writer ${n.node} commits without waiting for ${peer} (no semi-sync replica connected): a crash of ${n.node} now can lose its last acknowledged writes; check replication on ${peer}`);
    }
    if (!n.heartbeatRunning && !n.unreachable) warnings.push(`Heartbeat is not running on ${n.node}: nothing moves the floating IP if the other node fails`);
  }
  const recorded = new Set(nodes.filter((n) => !n.unreachable).map((n) => n.recordedWriter));
  if (recorded.size > 1) {
    warnings.push(`haresources names different writers on the two nodes (${nodes.map((n) => `${n.node}: ${n.recordedWriter ?? 'none'}`).join(', ')}); run swap to record one`);
  } else if (writer !== undefined && nodes[0]?.recordedWriter !== undefined && nodes[0].recordedWriter !== writer) {
    warnings.push(
      `haresources names ${nodes[0].recordedWriter}, not the writer ${writer}: if Heartbeat restarts on both nodes, ${nodes[0].recordedWriter} becomes the writer; run swap to ${writer} to record it`,
    );
  }
  return { pair: pair.name, vip: pair.vip.address, writer, epoch, nodes, warnings, lastMoves: lastMoves([...extras.values()].flatMap((e) => e.roleLines ?? [])) };
}

/** One line per node, as Flipper's users liked it: `NODE: db1 has write IP, is writable, ...`. */
export function formatNodeLine(n: NodeStatus): string {
  if (n.unreachable) return `NODE: ${n.node} UNREACHABLE (${n.unreachable})`;
  const parts = [n.holdsVip ? 'has write IP' : 'no write IP'];
  if (n.writable === undefined) {
    parts.push(n.mysqlRunning ? 'MySQL not answering' : 'MySQL not running');
  } else {
    parts.push(n.writable ? 'is writable' : 'is read-only');
    const r = n.replication;
    const live = r.state === 'running' || r.state === 'connecting';
    parts.push(`replication ${r.state}${r.tls === false ? ' UNENCRYPTED' : r.tls && live ? ' over TLS' : ''}`);
    if (r.state === 'running' || r.state === 'connecting') parts.push(`${r.secondsBehind ?? '?'}s delay`);
    if (r.lastError) parts.push(`last error: ${r.lastError}`);
    if (n.semiSyncReplicas !== undefined) parts.push(n.semiSyncReplicas > 0 ? 'commits wait for the peer' : 'commits ALONE');
  }
  parts.push(`heartbeat ${n.heartbeatRunning ? 'running' : 'NOT running'}`);
  if (n.topology) parts.push(`epoch ${n.topology.epoch}`);
  if (n.stale) parts.push('STALE');
  return `NODE: ${n.node} ${parts.join(', ')}`;
}

export function formatPairStatus(s: PairStatus): string {
  const head = `pair ${s.pair}: ${s.writer ? `writer ${s.writer}` : 'NO single writer'} (floating IP ${s.vip}, epoch ${s.epoch})`;
  const moved = s.lastMoves.length > 0 ? [`last move: ${s.lastMoves.at(-1)}`] : [];
  return [head, ...s.nodes.map(formatNodeLine), ...moved, ...s.warnings.map((w) => `WARNING: ${w}`), ...(s.loadBalancers ? [formatTierStatus(s.loadBalancers)] : [])].join('\n');
}

const ROLE_LINE = /^(\d{4})\/(\d\d)\/(\d\d)_(\d\d:\d\d:\d\d)\s.*?\bROLE: (.*)$/;

/**
 * The last three `ROLE:` lines of both nodes' Heartbeat logs, oldest first, as "2026-11-29 22:46:17
 * db1 is the writer: ..." (ha_log stamps them 2026/11/29_22:46:17).
 */
export function lastMoves(lines: readonly string[]): string[] {
  return lines
    .map((line) => ROLE_LINE.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]}-${m[2]}-${m[3]} ${m[4]} ${m[5]}`)
    .sort()
    .slice(-3);
}

/** Warnings of the pair and of its load-balanced tier. */
export function allWarnings(s: PairStatus): string[] {
  return [...s.warnings, ...(s.loadBalancers?.warnings ?? [])];
}

export async function readNodeExtras(conn: NodeConnections, live: NodeLiveState): Promise<NodeExtras> {
  const ssh = await conn.ssh(live.node);
  const haresources = await ssh.exec(`cat ${shellQuote(HARESOURCES_PATH)}`);
  const roles = await ssh.exec(`grep -h 'ROLE: ' ${shellQuote(HA_LOG_PATH)} 2>/dev/null | tail -n 3`);
  let topology: TopologyView | undefined;
  let semiSyncReplicas: number | undefined;
  if (live.mysql) {
    const session = await conn.mysql(live.node);
    topology = await readTopology(session).catch(() => undefined);
    if (!live.mysql.readOnly) semiSyncReplicas = await semiSyncReplicaCount(session).catch(() => undefined);
  }
  return {
    topology,
    haresources: haresources.code === 0 ? haresources.stdout : undefined,
    roleLines: roles.stdout.split('\n').filter((l) => l !== ''),
    ...(semiSyncReplicas !== undefined && { semiSyncReplicas }),
  };
}

/**
 * Both nodes, each read on its own: a node SSH cannot reach, or (with `deadlineMs`) one that has not
 * answered everything within that time, is reported as unreachable, not fatal.
 */
export async function readPairStatus(conn: NodeConnections, pair: PairSpec, deadlineMs?: number): Promise<PairStatus> {
  const read = await Promise.all(
    pair.nodes.map(async (node): Promise<[NodeLiveState, NodeExtras]> => {
      try {
        const reading = (async (): Promise<[NodeLiveState, NodeExtras]> => {
          const live = await readNodeState(conn, pair, node);
          return [live, await readNodeExtras(conn, live)];
        })();
        return await (deadlineMs === undefined ? reading : withDeadline(reading, deadlineMs, node.name));
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        const live: NodeLiveState = { node, holdsVip: false, heartbeatRunning: false, mysqlRunning: false, mysql: undefined };
        return [live, { unreachable: err.message, topology: undefined, haresources: undefined }];
      }
    }),
  );
  const status = assessPair(pair, read.map(([live]) => live), new Map(read.map(([live, extras]) => [live.node.name, extras])));
  if (pair.loadBalancers) status.loadBalancers = await readTierStatus(conn, pair, status.writer);
  return status;
}

/** Runs `body` with SSH and MySQL connections for the inventory's nodes, closed afterwards. */
export async function withConnections<T>(inv: Inventory, body: (conn: NodeConnections) => Promise<T>): Promise<T> {
  const pool = new HostPool(inv.ssh);
  const conn = new NodeConnections(pool);
  try {
    return await body(conn);
  } finally {
    await conn.closeMysql();
    await pool.closeAll();
  }
}

/** Pairs read at once by default (status --parallel), and how long a node may take to answer (--timeout). */
export const DEFAULT_STATUS_PARALLEL = 8;
export const DEFAULT_STATUS_TIMEOUT_MS = 15_000;

/** A TransportError naming the node when `work` has not settled within `ms` (its connections are closed at the end). */
function withDeadline<T>(work: Promise<T>, ms: number, node: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransportError(`no answer within ${ms / 1000} s`, { host: node, hint: 'a slow or hung host: check its load, sshd and MariaDB; raise --timeout for slow links' })), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Status of the chosen pairs (all when `pairs` is empty; an unknown name is a UsageError), `parallel`
 * at once; a node that does not answer within `timeoutMs` is reported as unreachable.
 */
export async function inventoryStatus(inv: Inventory, pairs: string[] = [], parallel = DEFAULT_STATUS_PARALLEL, timeoutMs = DEFAULT_STATUS_TIMEOUT_MS): Promise<PairStatus[]> {
  const chosen = selectPairs(inv, pairs);
  return withConnections(inv, (conn) => mapLimit(chosen, parallel, (pair) => readPairStatus(conn, pair, timeoutMs)));
}

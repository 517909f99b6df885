// verify: the truth about each pair in seconds. Reads the live state of both nodes, runs the live
// probes (a canary row both ways, TCP connections to the peer and to the floating IP, checksums),
// and turns it all into findings (verify-checks.ts, verify-firewall.ts). Changes nothing but the
// canary rows in duet's own schema.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DuetError, SqlError } from '../errors.ts';
import { selectPairs } from '../inventory/select.ts';
import type { Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';
import { peerOf } from '../inventory/model.ts';
import { DUET_SCHEMA } from '../inventory/validate.ts';
import {
  checksumTables,
  hasPendingLogin,
  listBaseTables,
  query,
  readInstanceState,
  readReplicationSettings,
  readAccountGrants,
  readWildcardAccounts,
  REPLICATION_ACCOUNT,
  semiSyncReplicaCount,
  waitForGtid,
  withBinlogOff,
  type AccountGrants,
  type MysqlSession,
  type ReplicationSettings,
  type TableName,
} from '../mysql/dao.ts';
import { CANARY_TABLE } from '../mysql/duet-schema.ts';
import { useDuetSchema } from '../mysql/dialect.ts';
import { factsScript, OPTIONAL_PACKAGES, parseFacts, type HostFacts } from '../plan/facts.ts';
import { chooseFirewallBoot } from '../plan/firewall-boot.ts';
import { FIREWALL_PATHS } from '../render/firewall-boot.ts';
import { changedFiles } from '../plan/plan.ts';
import { desiredFiles } from '../render/desired.ts';
import { HostPool } from '../transport/pool.ts';
import { mapLimit } from './fan-out.ts';
import { MYSQL_PORT } from '../inventory/model.ts';
import { NodeConnections, probeMysqlPort, probeOf, readNodeState, type NodeLiveState, type PortAnswer } from './pair-state.ts';
import { planLoadBalancer, planNode } from './provision.ts';
import { readTlsMaterial } from './tls.ts';
import { certificateExpiry } from '../plan/tls.ts';
import { readTierStatus } from './load-balancers.ts';
import {
  canaryFinding,
  checkAccounts,
  checkConfig,
  checkConsistency,
  checkDrift,
  checkLoadBalancers,
  checkGtidHistories,
  checkReplication,
  checkRoles,
  checkTls,
  checkVipRoute,
  comparedSchemas,
  positionForPeer,
  type CanaryOutcome,
  type CheckName,
  type Finding,
} from './verify-checks.ts';
import { checkFirewall, checkHostFirewall, firewallState, type FirewallState } from './verify-firewall.ts';

export interface VerifyOptions {
  /** Only these pairs (names); every pair when empty. */
  pairs: string[];
  /** Replication further behind than this fails. */
  maxLagSeconds: number;
  /** How long a canary row, a TCP probe or a catch-up wait may take. */
  timeoutMs: number;
  /** Compare CHECKSUM TABLE of the replicated tables (a full read of every table). */
  checksum: boolean;
  /** Pairs verified at once (--parallel); a slow pair holds one of these, not the others (default 8). */
  parallel?: number;
}

/** What verify does when not told otherwise (the command line's defaults too). */
export const DEFAULT_VERIFY_OPTIONS: VerifyOptions & { parallel: number } = { pairs: [], maxLagSeconds: 30, timeoutMs: 5000, checksum: true, parallel: 8 };

export interface VerifyReport {
  inventory: string;
  findings: Finding[];
  summary: {
    ok: number;
    warn: number;
    fail: number;
    unreachable: string[];
    elapsedMs: number;
    /** Canary round trips that arrived, keyed "writer -> peer". */
    canaryMs: Record<string, number>;
  };
}

const CHECK_ORDER: CheckName[] = ['ssh', 'replication', 'tls', 'config', 'roles', 'balancers', 'canary', 'consistency', 'firewall', 'accounts', 'drift'];
/** Checksum rounds before a difference measured while the pair kept writing is reported as such. */
const CHECKSUM_ATTEMPTS = 3;
const CANARY_POLL_MS = 5;
/** Canary rows older than this are deleted on both nodes (see pruneCanary). */
const CANARY_KEEP_SECONDS = 86_400;

export async function verify(loaded: Inventory, opts: VerifyOptions): Promise<VerifyReport> {
  const pairs = selectPairs(loaded, opts.pairs);
  // The certificates provision installs (the controller's folder, read only): drift compares them
  // with the hosts', and the tls check warns before one expires.
  const inv: Inventory = { ...loaded, tlsMaterial: await readTlsMaterial(loaded, pairs.flatMap((p) => p.nodes)) };
  const started = performance.now();
  const pool = new HostPool(inv.ssh);
  let perPair: Finding[][];
  try {
    perPair = await mapLimit(pairs, opts.parallel ?? DEFAULT_VERIFY_OPTIONS.parallel, (pair) => verifyPair(inv, pool, pair, opts));
  } finally {
    await pool.closeAll();
  }
  // Probes finish in any order; the report does not.
  const found = perPair.flatMap((list) => list.sort((x, y) => CHECK_ORDER.indexOf(x.check) - CHECK_ORDER.indexOf(y.check) || (x.host ?? '').localeCompare(y.host ?? '')));
  const count = (status: Finding['status']) => found.filter((f) => f.status === status).length;
  const canaryMs: Record<string, number> = {};
  for (const pair of pairs) {
    for (const node of pair.nodes) {
      const ms = found.find((f) => f.check === 'canary' && f.pair === pair.name && f.host === node.name)?.figures?.roundTripMs;
      if (ms !== undefined) canaryMs[`${node.name} -> ${peerOf(pair, node).name}`] = ms;
    }
  }
  return {
    inventory: inv.file,
    findings: found,
    summary: {
      ok: count('ok'),
      warn: count('warn'),
      fail: count('fail'),
      unreachable: found.filter((f) => f.check === 'ssh').map((f) => f.host ?? f.pair),
      elapsedMs: Math.round(performance.now() - started),
      canaryMs,
    },
  };
}

/** 0 all passed (warnings allowed), 1 a check failed, 3 a host could not be reached over SSH (as everywhere). */
export function exitCodeFor(report: VerifyReport): number {
  if (report.summary.unreachable.length > 0) return 3;
  return report.summary.fail > 0 ? 1 : 0;
}

const ORDER: Record<Finding['status'], number> = { fail: 0, warn: 1, ok: 2 };

/** One line per finding, failures first, then a summary line with the canary round trips. */
export function formatReport(report: VerifyReport): string {
  const lines = [...report.findings]
    .sort((a, b) => ORDER[a.status] - ORDER[b.status])
    .map((f) => `${f.status.toUpperCase().padEnd(4)} ${f.check.padEnd(11)} ${f.host ?? `pair ${f.pair}`}: ${f.message}${f.hint && f.status !== 'ok' ? `  (hint: ${f.hint})` : ''}`);
  const s = report.summary;
  const canary = Object.entries(s.canaryMs).map(([route, ms]) => `${route} ${ms} ms`);
  const verdict = s.unreachable.length > 0 ? `UNREACHABLE: ${s.unreachable.join(', ')}` : s.fail > 0 ? 'FAILED' : 'PASSED';
  lines.push(`verify ${verdict}: ${s.fail} failed, ${s.warn} warning(s), ${s.ok} ok in ${(s.elapsedMs / 1000).toFixed(1)} s${canary.length ? `; canary ${canary.join(', ')}` : ''}`);
  return lines.join('\n');
}

interface NodeFacts {
  node: NodeSpec;
  live: NodeLiveState | undefined;
  settings: ReplicationSettings | undefined;
  /** The replication account the peer logs in with (its TLS requirement); undefined when unread. */
  replicationAccount: AccountGrants | undefined;
  /** The host's facts (files, rules in force, daemons) as the drift check read them; undefined when unread. */
  hostFacts: HostFacts | undefined;
}

async function verifyPair(inv: Inventory, pool: HostPool, pair: PairSpec, opts: VerifyOptions): Promise<Finding[]> {
  const out: Finding[] = [];
  const conn = new NodeConnections(pool);
  try {
    // Nothing else is worth trying on a pair with a node out of reach: every check needs both.
    await Promise.all(pair.nodes.map((node) => guarded(out, 'ssh', pair, node, () => conn.ssh(node))));
    if (out.length > 0) return out;

    // Replication connections as the peer opens them: through its routes and this node's firewall.
    // Started first: a dropped SYN costs the whole timeout.
    const fromPeers = pair.nodes.map(async (node): Promise<PortAnswer> => {
      try {
        const probe = await probeMysqlPort(await conn.ssh(peerOf(pair, node)), node.address, MYSQL_PORT, opts.timeoutMs);
        probe.close();
        return probe.answer;
      } catch (err) {
        if (!(err instanceof DuetError)) throw err;
        return { kind: 'no answer', reason: err.message };
      }
    });
    const [a, b] = (await Promise.all(pair.nodes.map((node) => gatherNode(inv, conn, pair, node, out)))) as [NodeFacts, NodeFacts];
    // Each node's own binlog position once more, read after both states: a writer that keeps writing
    // is then never behind what its peer received from it a moment earlier (no errant-transaction
    // finding from the order of two reads).
    const later = await Promise.all(pair.nodes.map(async (node, i) => ([a, b][i]!.live?.mysql ? ownBinlogPosition(await conn.mysql(node)).catch(() => undefined) : undefined)));
    // Whether the writer's commits wait for its peer (semi-sync): read from the one writable node.
    const writer = [a, b].filter((f) => f.live?.mysql && !f.live.mysql.readOnly);
    const writerReplicas = writer.length === 1 ? await semiSyncReplicaCount(await conn.mysql(writer[0]!.node)).catch(() => undefined) : undefined;
    out.push(...stateFindings(inv, pair, a, b, opts, later, writerReplicas));
    const live = a.live && b.live ? ([a.live, b.live] as [NodeLiveState, NodeLiveState]) : undefined;
    await Promise.all([
      ...pair.nodes.map(async (node, i) => checkNodeFirewall(inv, conn, pair, node, [a, b][i]!.hostFacts, await fromPeers[i]!, out)),
      live && guarded(out, 'roles', pair, undefined, async () => out.push(...(await probeVipRoute(conn, pair, live, opts.timeoutMs)))),
      pair.loadBalancers && guarded(out, 'balancers', pair, undefined, async () => out.push(...(await verifyLoadBalancers(inv, conn, pair, live, opts.timeoutMs)))),
      writeAndCompare(inv, conn, pair, a, b, opts, out),
    ]);
    return out;
  } finally {
    await conn.closeMysql();
  }
}

async function ownBinlogPosition(session: MysqlSession): Promise<string> {
  const [row] = await query(session, session.dialect.instanceVariables);
  return String(row?.gtid_binlog ?? '');
}

/** The checks that need nothing but the facts already read: replication, settings, GTID histories, roles. */
function stateFindings(inv: Inventory, pair: PairSpec, a: NodeFacts, b: NodeFacts, opts: VerifyOptions, later: Array<string | undefined>, writerReplicas: number | undefined): Finding[] {
  const out: Finding[] = [];
  for (const f of [a, b]) {
    if (f.live) out.push(...checkReplication(inv, pair, { node: f.node, state: f.live.mysql, mysqlError: f.live.mysqlError }, opts.maxLagSeconds));
    if (f.live?.mysql) {
      const cert = inv.tlsMaterial?.get(f.node.name)?.cert;
      out.push(...checkTls(inv, pair, f.node, f.live.mysql.replica, f.replicationAccount, cert === undefined ? undefined : certificateExpiry(cert), new Date()));
    }
  }
  if (a.settings && b.settings) {
    out.push(...checkConfig(inv, pair, [{ node: a.node, settings: a.settings }, { node: b.node, settings: b.settings }]));
    if (inv.mysql.flavor === 'mariadb' && a.live?.mysql && b.live?.mysql) {
      out.push(
        ...checkGtidHistories(pair, [
          { node: a.node, binlog: a.live.mysql.gtid.binlog, ownBinlogLater: later[0], gtidDomainId: a.settings.gtidDomainId ?? a.node.gtidDomainId },
          { node: b.node, binlog: b.live.mysql.gtid.binlog, ownBinlogLater: later[1], gtidDomainId: b.settings.gtidDomainId ?? b.node.gtidDomainId },
        ]),
      );
    }
  }
  if (a.live && b.live) out.push(...checkRoles(pair, [a.live, b.live], writerReplicas));
  return out;
}

function replicating(f: NodeFacts): boolean {
  return f.live?.mysql?.replica?.ioRunning === 'Yes' && f.live.mysql.replica.sqlRunning === 'Yes';
}

/** The canary both ways, then (the canary having proven both directions) the data checksums. */
async function writeAndCompare(inv: Inventory, conn: NodeConnections, pair: PairSpec, a: NodeFacts, b: NodeFacts, opts: VerifyOptions, out: Finding[]): Promise<void> {
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const outcome: CanaryOutcome = !from.live?.mysql || !to.live?.mysql
      ? { kind: 'skipped', reason: 'MySQL is not reachable on both nodes' }
      : !replicating(to)
        ? { kind: 'skipped', reason: `replication into ${to.node.name} is not running` }
        : await runCanary(conn, from.node, to.node, opts.timeoutMs);
    out.push(canaryFinding(pair, from.node, to.node, outcome));
  }
  if (!opts.checksum || !a.settings || !b.settings) return;
  if (!replicating(a) || !replicating(b)) {
    out.push({
      check: 'consistency',
      pair: pair.name,
      status: 'warn',
      message: 'data not compared: replication is not running both ways, so the nodes cannot have caught up',
      hint: 'fix replication (see its findings), then run verify again',
    });
    return;
  }
  const domains = { [a.node.name]: a.settings.gtidDomainId, [b.node.name]: b.settings.gtidDomainId };
  await guarded(out, 'consistency', pair, undefined, async () => out.push(...(await compareData(inv, conn, pair, domains, opts.timeoutMs))));
}

/**
 * Runs one step of a check; an expected failure (DuetError: a command, a query, a lost connection)
 * becomes a failed finding of that check instead of hiding every other check. Bugs still throw.
 */
async function guarded<T>(out: Finding[], check: CheckName, pair: PairSpec, node: NodeSpec | undefined, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (err) {
    if (!(err instanceof DuetError)) throw err;
    const message = check === 'ssh' ? `unreachable: ${err.message}` : `could not check: ${err.message}`;
    out.push({ check, pair: pair.name, ...(node && { host: node.name }), status: 'fail', message, ...(err.hint !== undefined && { hint: err.hint }) });
    return undefined;
  }
}

/** One node's facts: processes, addresses and server state; its replication settings; its files. */
async function gatherNode(inv: Inventory, conn: NodeConnections, pair: PairSpec, node: NodeSpec, out: Finding[]): Promise<NodeFacts> {
  // One facts script serves the drift check, the daemons and addresses, and the firewall check.
  const planned = (async () => planNode(inv, await conn.ssh(node), pair, node))();
  const [live, settings, replicationAccount, , hostFacts] = await Promise.all([
    guarded(out, 'roles', pair, node, () => readNodeState(conn, pair, node, planned.then(({ facts }) => probeOf(facts), () => undefined))),
    // A server that cannot be reached is reported once, by the replication check (from readNodeState).
    conn.mysql(node).then(readReplicationSettings, () => undefined),
    conn.mysql(node).then(
      (session) => guarded(out, 'tls', pair, node, () => readAccountGrants(session, { user: inv.mysql.replication.user, host: peerOf(pair, node).address }, REPLICATION_ACCOUNT)),
      () => undefined,
    ),
    conn.mysql(node).then(
      (session) => guarded(out, 'accounts', pair, node, async () => out.push(...checkAccounts(pair, node, await readWildcardAccounts(session)))),
      () => undefined,
    ),
    guarded(out, 'drift', pair, node, async () => {
      const { facts, plan } = await planned;
      out.push(...checkDrift(pair, node, changedFiles(plan), plan.changes.length));
      return facts;
    }),
  ]);
  return { node, live, settings, replicationAccount, hostFacts };
}

/** `known`: the host's facts already read with the firewall sections (the drift check's); read here otherwise. */
async function checkNodeFirewall(inv: Inventory, conn: NodeConnections, pair: PairSpec, node: NodeSpec, known: HostFacts | undefined, fromPeer: PortAnswer, out: Finding[]): Promise<void> {
  await guarded(out, 'firewall', pair, node, async () => {
    let state: FirewallState | undefined;
    if (inv.firewall.manage) {
      // One round trip: the rules in force, what can load them at boot, the firewall files.
      const facts = known ?? parseFacts((await (await conn.ssh(node)).run(factsScript([...FIREWALL_PATHS], [...OPTIONAL_PACKAGES], { firewall: true }))).stdout);
      const choice = chooseFirewallBoot(facts);
      state = firewallState(desiredFiles(inv, pair, node, choice ? { firewallBoot: choice.boot } : {}), facts, choice);
    }
    out.push(...checkFirewall(pair, node, peerOf(pair, node), state, fromPeer));
  });
}

/**
 * Connects to the floating IP from the node that does not hold it and reads the greeting; while
 * that login is pending, the server that answered lists its connection id as an unauthenticated
 * user. No password is involved, and the connection is closed before it logs in.
 */
async function probeVipRoute(conn: NodeConnections, pair: PairSpec, live: [NodeLiveState, NodeLiveState], timeoutMs: number): Promise<Finding[]> {
  const other = live.filter((n) => !n.holdsVip);
  // With the floating IP on no node or on both, checkRoles has already said what is wrong.
  if (other.length !== 1) return [];
  const from = other[0]!.node;
  const probe = await probeMysqlPort(await conn.ssh(from), pair.vip.address, MYSQL_PORT, timeoutMs);
  try {
    const { answer } = probe;
    const reached = answer.kind !== 'greeting' ? [] : await pendingOn(conn, pair, answer.connectionId);
    const writable = live.every((n) => n.mysql) ? live.filter((n) => !n.mysql?.readOnly).map((n) => n.node.name) : undefined;
    return checkVipRoute(pair, from.name, answer, reached, writable);
  } finally {
    probe.close();
  }
}

/**
 * The load-balanced tier: its state (checkLoadBalancers), the files on each load balancer (drift),
 * and a connection to the tier's floating IP, opened on the load balancer holding it (the firewall
 * admits only the application hosts from elsewhere), greeted by the writer: its connection id shows
 * up as a pending login there, as for the pair's own floating IP (probeVipRoute).
 */
async function verifyLoadBalancers(inv: Inventory, conn: NodeConnections, pair: PairSpec, live: [NodeLiveState, NodeLiveState] | undefined, timeoutMs: number): Promise<Finding[]> {
  const tier = pair.loadBalancers!;
  const writable = live?.every((n) => n.mysql) ? live.filter((n) => !n.mysql?.readOnly).map((n) => n.node.name) : undefined;
  const status = await readTierStatus(conn, pair, writable?.length === 1 ? writable[0] : undefined);
  const out = checkLoadBalancers(pair, status);
  for (const host of tier.nodes) {
    if (status.loadBalancers.find((l) => l.host.name === host.name)?.unreachable) continue;
    const { facts, plan } = await planLoadBalancer(inv, await conn.ssh(host), pair, host);
    out.push(...checkDrift(pair, host, changedFiles(plan), plan.changes.length));
    // The plan's files are the ones rendered for the way this host loads the rules at boot.
    if (plan.firewallBoot) out.push(...checkHostFirewall(pair, host, firewallState(plan.changes.map((c) => c.file), facts, plan.firewallBoot)));
  }
  const holder = tier.nodes.find((h) => h.name === status.holder);
  if (!holder) return out;
  const target = `${tier.vip.address}:${tier.port}`;
  const probe = await probeMysqlPort(await conn.ssh(holder), tier.vip.address, tier.port, timeoutMs);
  try {
    const { answer } = probe;
    const reached = answer.kind !== 'greeting' ? [] : await pendingOn(conn, pair, answer.connectionId);
    out.push(...checkVipRoute(pair, holder.name, answer, reached, writable, { check: 'balancers', target }));
  } finally {
    probe.close();
  }
  return out;
}

/** The nodes of the pair where this connection id is a pending login. */
async function pendingOn(conn: NodeConnections, pair: PairSpec, connectionId: number): Promise<string[]> {
  const hits = await Promise.all(pair.nodes.map(async (n) => ((await hasPendingLogin(await conn.mysql(n), connectionId)) ? n.name : undefined)));
  return hits.filter((name): name is string => name !== undefined);
}

/**
 * Inserts a fresh row on `from` and polls `to` until it is there: the time a write takes to become
 * visible on the peer, measured from just before the INSERT.
 */
async function runCanary(conn: NodeConnections, from: NodeSpec, to: NodeSpec, timeoutMs: number): Promise<CanaryOutcome> {
  const token = randomBytes(16).toString('hex');
  try {
    const [source, target] = await Promise.all([conn.mysql(from), conn.mysql(to)]);
    await pruneCanary(source);
    // With binlog_do_db, a statement is filtered by the default database: write from inside duet's.
    await query(source, useDuetSchema);
    const started = performance.now();
    await query(source, { sql: `INSERT INTO ${CANARY_TABLE} (writer, token) VALUES (?, ?)`, params: [from.name, token] });
    const seen = { sql: `SELECT 1 FROM ${DUET_SCHEMA}.${CANARY_TABLE} WHERE writer = ? AND token = ?`, params: [from.name, token] };
    for (;;) {
      if ((await query(target, seen)).length > 0) return { kind: 'arrived', ms: Math.round(performance.now() - started) };
      if (performance.now() - started > timeoutMs) return { kind: 'timeout', ms: timeoutMs };
      await new Promise((r) => setTimeout(r, CANARY_POLL_MS));
    }
  } catch (err) {
    if (!(err instanceof DuetError)) throw err;
    // ER_BAD_DB_ERROR (USE duet) or ER_NO_SUCH_TABLE: provision has not created them on this node.
    const missing = err instanceof SqlError && (err.errno === 1049 || err.errno === 1146);
    return { kind: 'error', message: err.message, hint: missing ? `run provision: it creates ${DUET_SCHEMA}.${CANARY_TABLE} on both nodes` : err.hint };
  }
}

/**
 * Keeps the canary table small: each node deletes its old rows itself, with the binlog off, so no
 * delete ever has to find its row on the peer (a row lost to an earlier fault would stop the replica).
 */
async function pruneCanary(session: MysqlSession): Promise<void> {
  await withBinlogOff(session, () =>
    query(session, {
      sql: `DELETE FROM ${DUET_SCHEMA}.${CANARY_TABLE} WHERE written_at < FROM_UNIXTIME(?)`,
      params: [Math.floor(Date.now() / 1000) - CANARY_KEEP_SECONDS],
    }),
  );
}

/**
 * CHECKSUM TABLE of the replicated tables on both nodes, at a point where each node has applied the
 * other's binlog and neither binlog moved while the tables were read. A pair that keeps writing gets
 * a few attempts before a difference is reported as possibly in flight.
 */
async function compareData(inv: Inventory, conn: NodeConnections, pair: PairSpec, domains: Record<string, number | undefined>, timeoutMs: number): Promise<Finding[]> {
  const sessions = await Promise.all(pair.nodes.map((n) => conn.mysql(n)));
  const tables = await tablesToCompare(inv, sessions);
  const waitSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  let result: Finding[] = [];
  for (let attempt = 1; attempt <= CHECKSUM_ATTEMPTS; attempt++) {
    const before = await Promise.all(sessions.map(async (s) => (await readInstanceState(s)).gtid.binlog));
    await Promise.all(
      pair.nodes.map(async (node, i) => {
        const position = positionForPeer(inv.mysql.flavor, before[1 - i]!, domains[node.name]);
        if (position !== '') await waitForGtid(sessions[i]!, position, waitSeconds);
      }),
    );
    const checksums = await Promise.all(sessions.map((s) => checksumTables(s, tables)));
    const after = await Promise.all(sessions.map(async (s) => (await readInstanceState(s)).gtid.binlog));
    const quiet = before.every((position, i) => position === after[i]);
    result = checkConsistency(pair, { checksums: [checksums[0]!, checksums[1]!], quiet }, attempt);
    if (quiet || result.every((f) => f.status === 'ok')) break;
  }
  return result;
}

/** The replicated tables that exist on either node ("missing on" the other is a finding). */
async function tablesToCompare(inv: Inventory, sessions: MysqlSession[]): Promise<TableName[]> {
  const all = (await Promise.all(sessions.map(listBaseTables))).flat();
  const schemas = new Set(comparedSchemas(inv, [...new Set(all.map((t) => t.schema))], DUET_SCHEMA));
  const unique = new Map(all.filter((t) => schemas.has(t.schema)).map((t) => [`${t.schema}.${t.table}`, t]));
  return [...unique.values()];
}

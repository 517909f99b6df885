// verify's judgements: live facts in, findings out. Pure, so every diagnosis is unit-tested with the
// rows and outputs real servers give; verify.ts gathers the facts and runs the live probes.
import type { Flavor, HostSpec, Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';
import { peerOf } from '../inventory/model.ts';
import type { AccountGrants, ReplicationSettings } from '../mysql/dao.ts';
import { TLS_PATHS } from '../render/desired.ts';
import { replicaThreads, type Account } from '../mysql/dialect.ts';
import { usesTls, type InstanceState, type ReplicaStatus } from '../mysql/model.ts';
import type { FileChange } from '../plan/plan.ts';
import { MYSQL_PORT } from '../inventory/model.ts';
import type { NodeLiveState, PortAnswer } from './pair-state.ts';

export type Status = 'ok' | 'warn' | 'fail';

export type CheckName = 'ssh' | 'replication' | 'tls' | 'canary' | 'config' | 'consistency' | 'roles' | 'balancers' | 'firewall' | 'accounts' | 'drift';

export interface Finding {
  check: CheckName;
  pair: string;
  /** The node the finding is about; absent when it is about the pair as a whole. */
  host?: string;
  status: Status;
  message: string;
  /** What to do about it (warn and fail only). */
  hint?: string;
  /** What was measured (milliseconds, seconds behind, counts); in --json. */
  figures?: Record<string, number>;
}

type Draft = Omit<Finding, 'check' | 'pair'>;

function findings(check: CheckName, pair: PairSpec, drafts: Draft[]): Finding[] {
  return drafts.map((d) => ({ check, pair: pair.name, ...d }));
}

function startReplicaStatement(flavor: Flavor, thread: 'IO_THREAD' | 'SQL_THREAD'): string {
  return replicaThreads(flavor, 'START', thread);
}

// ---------------------------------------------------------------------------------------------
// Replication

/** Errors of the replica I/O thread, by client or server error number. */
const ER_ACCESS_DENIED = 1045;
const ER_HOST_NOT_PRIVILEGED = 1130;
const ER_SOURCE_FATAL_READING_BINLOG = 1236;
const ER_SLAVE_FATAL_ERROR = 1593;
const CR_CONN_HOST_ERROR = 2003;
/** Errors of the SQL thread that mean the two nodes hold different data. */
const DATA_CONFLICTS = new Set([1032, 1062, 1451, 1452]);
/** MariaDB's GTID ordering errors (gtid_strict_mode): a transaction the peer's history does not have. */
const GTID_CONFLICTS = new Set([1942, 1950]);

export interface ReplicationFacts {
  node: NodeSpec;
  /** undefined when MySQL could not be reached; mysqlError says why. */
  state: InstanceState | undefined;
  mysqlError?: string | undefined;
}

/** One node's replica threads: running, from its peer, without errors, and not too far behind. */
export function checkReplication(inv: Inventory, pair: PairSpec, facts: ReplicationFacts, maxLagSeconds: number): Finding[] {
  const { node } = facts;
  const peer = peerOf(pair, node);
  const out: Draft[] = [];
  const replica = facts.state?.replica;
  if (!facts.state) {
    out.push({
      host: node.name,
      status: 'fail',
      message: `cannot read the server's state: ${facts.mysqlError ?? 'unknown error'}`,
      hint: `check that mysqld runs on ${node.name} (service ${inv.mysql.flavor} status); provision starts it`,
    });
  } else if (!replica) {
    out.push({ host: node.name, status: 'fail', message: 'not a replica: no replication source is configured', hint: 'run provision: it makes each node replicate from its peer' });
  } else {
    if (replica.sourceHost !== peer.address || replica.sourcePort !== MYSQL_PORT) {
      out.push({
        host: node.name,
        status: 'fail',
        message: `replicates from ${replica.sourceHost}:${replica.sourcePort}, not from its peer ${peer.name} (${peer.address}:${MYSQL_PORT})`,
        hint: 'run provision: it points each node at its peer (CHANGE MASTER keeps the GTID position)',
      });
    }
    if (replica.sourceUser !== inv.mysql.replication.user) {
      out.push({ host: node.name, status: 'warn', message: `logs in to its source as ${replica.sourceUser}, not as ${inv.mysql.replication.user} (mysql.replication.user)`, hint: 'run provision to use the inventory\'s account' });
    }
    if (replica.ioRunning !== 'Yes') out.push({ host: node.name, status: 'fail', ...diagnoseIoThread(inv, node, peer, replica) });
    if (replica.sqlRunning !== 'Yes') out.push({ host: node.name, status: 'fail', ...diagnoseSqlThread(inv.mysql.flavor, node, peer, replica) });
    if (replica.secondsBehind !== null && replica.secondsBehind > maxLagSeconds) {
      out.push({
        host: node.name,
        status: 'fail',
        message: `${replica.secondsBehind} s behind ${peer.name} (more than ${maxLagSeconds} s)`,
        hint: `a long transaction or a slow disk on ${node.name}; it catches up by itself unless writes keep outpacing it (SHOW PROCESSLIST on ${node.name})`,
        figures: { secondsBehind: replica.secondsBehind },
      });
    }
    if (replica.usingGtid === 'no') {
      out.push({ host: node.name, status: 'warn', message: 'replicates by binlog file and position, not by GTID', hint: 'run provision: GTID positions survive a swap and a failover' });
    }
    if (out.length === 0) {
      out.push({
        host: node.name,
        status: 'ok',
        message: `replicates from ${peer.name} (${peer.address}): I/O and SQL threads running, ${replica.secondsBehind ?? 0} s behind`,
        figures: { secondsBehind: replica.secondsBehind ?? 0 },
      });
    }
  }
  return findings('replication', pair, out);
}

/** Why the I/O thread is not running, and what fixes it: the classic causes first. */
export function diagnoseIoThread(inv: Inventory, node: NodeSpec, peer: NodeSpec, replica: ReplicaStatus): { message: string; hint: string } {
  const source = `${replica.sourceHost}:${replica.sourcePort}`;
  const account = `'${replica.sourceUser}'@'${node.address}'`;
  const error = replica.lastIoErrno === 0 ? '' : ` (error ${replica.lastIoErrno}: ${replica.lastIoError})`;
  if (replica.lastIoErrno === ER_SLAVE_FATAL_ERROR && /server ids?/i.test(replica.lastIoError)) {
    return {
      message: `I/O thread stopped: ${node.name} and its source have the same server_id${error}`,
      hint: `every server needs its own server_id (the inventory gives ${node.name} ${node.serverId} and ${peer.name} ${peer.serverId}); see the config findings, set it back, then ${startReplicaStatement(inv.mysql.flavor, 'IO_THREAD')} on ${node.name}`,
    };
  }
  if (replica.lastIoErrno === ER_HOST_NOT_PRIVILEGED) {
    return {
      message: `${peer.name} does not let ${node.name} log in: no account matches its host${error}`,
      hint: `the replication account on ${peer.name} must be ${account} (the node's address, not a host name); run provision, which creates it`,
    };
  }
  if (replica.lastIoErrno === ER_ACCESS_DENIED) {
    return {
      message: `${peer.name} refuses the replication login${error}`,
      hint: `the password of ${account} on ${peer.name} is not the inventory's (mysql.replication.password); run provision, which sets it on both nodes`,
    };
  }
  if (replica.lastIoErrno === ER_SOURCE_FATAL_READING_BINLOG) {
    return {
      message: `${peer.name} cannot send the transactions ${node.name} asks for${error}`,
      hint: `the GTID positions have diverged (transactions on one node the other never had: see the gtid findings) or the binlogs were purged; rebuild ${node.name} from a copy of ${peer.name}'s data (mariadb-dump --master-data=1 --gtid, or mariabackup), then run provision`,
    };
  }
  const connectHint = `check that mysqld runs on ${peer.name} and listens on ${MYSQL_PORT}, that ${peer.name}'s firewall accepts ${node.address} (see the firewall findings), and that ${source} is ${peer.name}'s address (${peer.address})`;
  if (replica.lastIoErrno === CR_CONN_HOST_ERROR || replica.ioRunning === 'Connecting') {
    const cause = /\(110\b|timed out/i.test(replica.lastIoError)
      ? 'connection timed out: packets are dropped, most likely by a firewall'
      : /\(111\b|refused/i.test(replica.lastIoError)
        ? 'connection refused: nothing listens there'
        : /\(113\b|no route/i.test(replica.lastIoError)
          ? 'no route to the host: a wrong address?'
          : replica.lastIoErrno === 0
            ? 'no error yet'
            : 'cannot connect';
    return { message: `I/O thread ${replica.ioRunning === 'Connecting' ? 'still connecting' : 'stopped'} to ${source}: ${cause}${error}`, hint: connectHint };
  }
  if (replica.lastIoErrno === 0) {
    return {
      message: 'I/O thread stopped without an error (STOP SLAVE by hand?)',
      hint: `${startReplicaStatement(inv.mysql.flavor, 'IO_THREAD')} on ${node.name}`,
    };
  }
  return { message: `I/O thread ${replica.ioRunning === 'No' ? 'stopped' : replica.ioRunning.toLowerCase()}${error}`, hint: connectHint };
}

/** Why the SQL thread is not running, and what fixes it. */
export function diagnoseSqlThread(flavor: Flavor, node: NodeSpec, peer: NodeSpec, replica: ReplicaStatus): { message: string; hint: string } {
  const start = `${startReplicaStatement(flavor, 'SQL_THREAD')} on ${node.name}`;
  if (replica.lastSqlErrno === 0) {
    return { message: 'SQL thread stopped without an error (STOP SLAVE by hand?)', hint: start };
  }
  const error = `error ${replica.lastSqlErrno}: ${replica.lastSqlError}`;
  if (DATA_CONFLICTS.has(replica.lastSqlErrno)) {
    return {
      message: `SQL thread stopped: the data on ${node.name} differ from ${peer.name}'s (${error})`,
      hint: `make the row named in the error on ${node.name} match ${peer.name} (with sql_log_bin = 0), then ${start}; do not skip the event blindly (see the consistency findings)`,
    };
  }
  if (GTID_CONFLICTS.has(replica.lastSqlErrno)) {
    return {
      message: `SQL thread stopped on a GTID out of order (${error})`,
      hint: `one node has transactions the other never had (errant transactions, see the gtid findings); rebuild ${node.name} from ${peer.name} or remove the errant transactions, then ${start}`,
    };
  }
  return { message: `SQL thread stopped (${error})`, hint: `fix what the error names on ${node.name}, then ${start}` };
}

// ---------------------------------------------------------------------------------------------
// GTID histories (MariaDB): each node writes its own domain, so neither may be ahead of the other
// in the other's domain.

// ---------------------------------------------------------------------------------------------
// TLS between the peers

/**
 * One node's side of TLS: its replica connects to the peer over TLS, verifying the peer's certificate
 * against the cluster's CA and presenting its own (duet's files); and the account the peer's replica
 * logs in with here accepts only TLS logins with a certificate (REQUIRE X509).
 */
export function checkTls(
  inv: Inventory,
  pair: PairSpec,
  node: NodeSpec,
  replica: ReplicaStatus | undefined,
  account: Pick<AccountGrants, 'exists' | 'sslType'> | undefined,
  certExpires?: Date,
  now?: Date,
): Finding[] {
  const peer = peerOf(pair, node);
  const out: Draft[] = [];
  if (certExpires && now) {
    const days = Math.floor((certExpires.getTime() - now.getTime()) / 86_400_000);
    if (days < inv.mysql.tls.renewDays) {
      out.push({
        host: node.name,
        status: days < 0 ? 'fail' : 'warn',
        message: `its certificate ${days < 0 ? 'expired' : 'expires'} on ${certExpires.toISOString().slice(0, 10)} (mysql.tls.renew_days ${inv.mysql.tls.renewDays})`,
        hint: 'run provision: it issues a new certificate and reloads it (FLUSH SSL), replication keeps running',
        figures: { certificateDays: days },
      });
    }
  }
  const fix = 'run provision: it points each replica at its peer over TLS (MASTER_SSL=1, MASTER_SSL_VERIFY_SERVER_CERT=1) and sets REQUIRE X509';
  if (replica && !usesTls(replica, TLS_PATHS)) {
    const what = !replica.tls.enabled ? 'in clear text (MASTER_SSL off)' : !replica.tls.verifyServerCert ? "over TLS without verifying the source's certificate" : "over TLS with other certificate files than duet's";
    out.push({ host: node.name, status: 'fail', message: `replicates from ${peer.name} ${what}`, hint: fix });
  }
  const user = `${inv.mysql.replication.user}@${peer.address}`;
  if (account?.exists && account.sslType !== 'X509') {
    out.push({ host: node.name, status: 'fail', message: `the replication account ${user} accepts logins without a client certificate (REQUIRE ${account.sslType === '' ? 'NONE' : account.sslType})`, hint: fix });
  }
  if (out.every((d) => d.status === 'warn') && replica && account?.exists) {
    out.push({ host: node.name, status: 'ok', message: `replicates from ${peer.name} over TLS, its certificate verified against the cluster CA; ${user} requires X509` });
  }
  return findings('tls', pair, out);
}

export interface GtidElement {
  domain: number;
  serverId: number;
  seq: number;
}

/** "0-1-5,11-11-42" (MariaDB gtid_binlog_pos and friends) -> elements; "" -> []. */
export function parseMariadbGtidList(position: string): GtidElement[] {
  return position
    .split(',')
    .filter((e) => e.trim() !== '')
    .map((e) => {
      const [domain, serverId, seq] = e.trim().split('-').map(Number);
      return { domain: domain ?? NaN, serverId: serverId ?? NaN, seq: seq ?? NaN };
    });
}

/**
 * The part of `position` (a node's gtid_binlog_pos) its peer can wait for: everything but the peer's
 * own domain, which the peer wrote itself and never applies as a replica (MASTER_GTID_WAIT compares
 * with gtid_slave_pos). MySQL's GTID sets need no filtering: the peer's gtid_executed has its own.
 */
export function positionForPeer(flavor: Flavor, position: string, peerDomain: number | undefined): string {
  if (flavor !== 'mariadb') return position;
  return parseMariadbGtidList(position)
    .filter((e) => e.domain !== peerDomain)
    .map((e) => `${e.domain}-${e.serverId}-${e.seq}`)
    .join(',');
}

export interface GtidFacts {
  node: NodeSpec;
  /** gtid_binlog_pos */
  binlog: string;
  /** gtid_binlog_pos read again after both nodes' `binlog`: what the node counts as its own position. */
  ownBinlogLater?: string | undefined;
  gtidDomainId: number;
}

/**
 * Errant transactions: a node whose binlog is ahead of the domain's owner in the owner's own domain
 * has transactions the owner never wrote (a write on the wrong node with a borrowed domain, or a
 * RESET MASTER on the owner). Being behind is only lag. The owner's position is the one read last
 * (ownBinlogLater), so a writer writing between the two reads is not taken for errant.
 */
export function checkGtidHistories(pair: PairSpec, nodes: [GtidFacts, GtidFacts]): Finding[] {
  const out: Draft[] = [];
  for (const mine of nodes) {
    const owner = nodes.find((n) => n !== mine)!;
    const ownerSeq = parseMariadbGtidList(owner.ownBinlogLater ?? owner.binlog).find((e) => e.domain === owner.gtidDomainId)?.seq ?? 0;
    const mineSeq = parseMariadbGtidList(mine.binlog).find((e) => e.domain === owner.gtidDomainId)?.seq ?? 0;
    if (mineSeq > ownerSeq) {
      out.push({
        host: mine.node.name,
        status: 'fail',
        message: `errant transactions: ${mine.node.name}'s binlog reaches seq ${mineSeq} in ${owner.node.name}'s GTID domain ${owner.gtidDomainId}, ${owner.node.name}'s own binlog only ${ownerSeq}`,
        hint: `the GTID histories have diverged: ${mine.node.name} holds transactions after ${owner.gtidDomainId}-*-${ownerSeq} that ${owner.node.name} never wrote (SHOW BINLOG EVENTS on ${mine.node.name} finds them); rebuild the wrong node from the other (mariabackup) and run provision`,
        figures: { errantTransactions: mineSeq - ownerSeq },
      });
    }
  }
  return findings('replication', pair, out);
}

// ---------------------------------------------------------------------------------------------
// Configuration as the servers run it

export interface ConfigFacts {
  node: NodeSpec;
  settings: ReplicationSettings;
}

/** The server settings master-master replication depends on, compared across the pair and with the inventory. */
export function checkConfig(inv: Inventory, pair: PairSpec, nodes: [ConfigFacts, ConfigFacts]): Finding[] {
  const out: Draft[] = [];
  const [a, b] = nodes;
  const mariadb = inv.mysql.flavor === 'mariadb';
  for (const { node, settings } of nodes) {
    const fail = (message: string, hint: string) => out.push({ host: node.name, status: 'fail', message, hint });
    if (settings.serverId !== node.serverId) {
      fail(`runs with server_id ${settings.serverId}, the inventory says ${node.serverId}`, `SET GLOBAL server_id = ${node.serverId} on ${node.name} (changed at runtime: my.cnf still has the inventory's, see drift)`);
    }
    if (!settings.logBin) fail('the binary log is off (log_bin)', 'replication needs it on both nodes; run provision (it writes log_bin into my.cnf and restarts mysqld)');
    if (!settings.logReplicaUpdates) {
      fail(`${mariadb ? 'log_slave_updates' : 'log_replica_updates'} is off`, 'without it the node does not log what it replicates, so its binlog misses the peer\'s writes; run provision');
    }
    const tail = settings.tailSafety;
    if (tail) {
      const off = [
        ...(tail.gtidStrictMode ? [] : ['gtid_strict_mode is OFF']),
        ...(tail.semiSyncSource ? [] : ['rpl_semi_sync_master_enabled is OFF']),
        ...(tail.semiSyncReplica ? [] : ['rpl_semi_sync_slave_enabled is OFF']),
        ...(tail.semiSyncWaitPoint === 'AFTER_SYNC' ? [] : [`rpl_semi_sync_master_wait_point is ${tail.semiSyncWaitPoint}`]),
      ];
      if (off.length > 0) {
        fail(
          `${off.join(', ')}: after a failover this node could keep, and later send, transactions its peer never acknowledged`,
          'run provision (it writes gtid_strict_mode and semi-sync AFTER_SYNC into my.cnf and restarts the server)',
        );
      }
    }
    if (settings.binlogFormat !== 'ROW') fail(`binlog_format is ${settings.binlogFormat}, not ROW`, `SET GLOBAL binlog_format = ROW on ${node.name}, or run provision; statement logging replays non-deterministic statements differently`);
    if (settings.autoIncrementIncrement !== inv.mysql.autoIncrementIncrement || settings.autoIncrementOffset !== node.autoIncrementOffset) {
      fail(
        `auto_increment_increment/offset are ${settings.autoIncrementIncrement}/${settings.autoIncrementOffset}, the inventory says ${inv.mysql.autoIncrementIncrement}/${node.autoIncrementOffset}`,
        `SET GLOBAL auto_increment_increment = ${inv.mysql.autoIncrementIncrement}, auto_increment_offset = ${node.autoIncrementOffset} on ${node.name}, or restart it`,
      );
    }
  }
  const pairFail = (message: string, hint: string) => out.push({ status: 'fail', message, hint });
  if (a.settings.serverId === b.settings.serverId) {
    pairFail(
      `both nodes run server_id ${a.settings.serverId}`,
      `a server ignores events carrying its own server_id, so each drops the other's writes; give them back their own (${a.node.name} ${a.node.serverId}, ${b.node.name} ${b.node.serverId}) and check the data (consistency)`,
    );
  }
  if (a.settings.autoIncrementIncrement !== b.settings.autoIncrementIncrement) {
    pairFail(`auto_increment_increment differs: ${a.node.name} ${a.settings.autoIncrementIncrement}, ${b.node.name} ${b.settings.autoIncrementIncrement}`, 'both nodes need the same increment so their ids interleave; run provision');
  } else if (a.settings.autoIncrementOffset % a.settings.autoIncrementIncrement === b.settings.autoIncrementOffset % b.settings.autoIncrementIncrement) {
    pairFail(`both nodes hand out the same auto-increment ids (offset ${a.settings.autoIncrementOffset} and ${b.settings.autoIncrementOffset}, increment ${a.settings.autoIncrementIncrement})`, 'inserts on both sides collide (error 1062 on the replica); run provision');
  }
  if (mariadb && a.settings.gtidDomainId === b.settings.gtidDomainId) {
    pairFail(`both nodes write GTID domain ${a.settings.gtidDomainId ?? '?'}`, `each node needs its own gtid_domain_id (the inventory gives ${a.node.gtidDomainId} and ${b.node.gtidDomainId}), or their GTID sequences collide; run provision`);
  }
  const filters = (s: ReplicationSettings) => (s.binlogFilters ? `do [${s.binlogFilters.doDb.join(',')}] ignore [${s.binlogFilters.ignoreDb.join(',')}]` : 'none (binlog off)');
  if (filters(a.settings) !== filters(b.settings)) {
    pairFail(`the binlog filters differ: ${a.node.name} ${filters(a.settings)}, ${b.node.name} ${filters(b.settings)}`, 'a schema replicated one way only drifts apart; run provision (binlog_do_db/binlog_ignore_db come from mysql.databases and mysql.ignore_databases)');
  }
  if (out.length === 0) {
    out.push({
      status: 'ok',
      message:
        `server_id ${a.settings.serverId}/${b.settings.serverId}, log_bin and ${mariadb ? 'log_slave_updates' : 'log_replica_updates'} on, ROW, ` +
        `auto_increment ${a.settings.autoIncrementIncrement} with offsets ${a.settings.autoIncrementOffset}/${b.settings.autoIncrementOffset}` +
        `${mariadb ? `, GTID domains ${a.settings.gtidDomainId}/${b.settings.gtidDomainId}` : ''}${a.settings.tailSafety ? ', semi-sync AFTER_SYNC, strict GTID order' : ''}, binlog filters ${filters(a.settings)} on both`,
    });
  }
  return findings('config', pair, out);
}

// ---------------------------------------------------------------------------------------------
// Roles: one writer, the floating IP on it, Heartbeat on both

/**
 * Exactly one writable node, the floating IP on it and nowhere else, Heartbeat running on both.
 * `writerSemiSyncReplicas`: how many replicas the writer's commits wait for (semiSyncReplicaCount;
 * undefined where duet does not use semi-sync): 0 is a warning, the writer commits alone.
 */
export function checkRoles(pair: PairSpec, nodes: [NodeLiveState, NodeLiveState], writerSemiSyncReplicas?: number): Finding[] {
  const out: Draft[] = [];
  const vip = pair.vip.address;
  const known = nodes.every((n) => n.mysql !== undefined);
  const writable = nodes.filter((n) => n.mysql && !n.mysql.readOnly).map((n) => n.node.name);
  const holders = nodes.filter((n) => n.holdsVip).map((n) => n.node.name);
  if (known && writable.length === 2) {
    const reader = holders.length === 1 ? nodes.find((n) => n.node.name !== holders[0])!.node.name : undefined;
    out.push({
      status: 'fail',
      message: 'both nodes are writable (read_only OFF on both)',
      hint: `writes on both sides can conflict and stop replication; SET GLOBAL read_only = ON on ${reader ?? 'the node that should not be the writer'}${reader ? ` (it does not hold ${vip})` : ''}, then check the consistency findings`,
    });
  } else if (known && writable.length === 0) {
    out.push({
      status: 'fail',
      message: 'no node is writable (read_only ON on both)',
      hint: `SET GLOBAL read_only = OFF on ${holders.length === 1 ? holders[0] : 'the node holding the floating IP'}, or run provision`,
    });
  }
  if (holders.length === 0) {
    out.push({ status: 'fail', message: `the floating IP ${vip} is on no node`, hint: 'check that Heartbeat runs on both nodes and read /var/log/ha-log; applications cannot connect' });
  } else if (holders.length === 2) {
    out.push({ status: 'fail', message: `the floating IP ${vip} is on both nodes (split brain)`, hint: 'Heartbeat packets do not pass between the nodes (firewall, udpport, authkeys); fix that, then restart heartbeat on the node that should not hold it' });
  } else if (known && writable.length === 1 && holders[0] !== writable[0]) {
    out.push({
      status: 'fail',
      message: `the floating IP ${vip} is on ${holders[0]}, but the writable node is ${writable[0]}`,
      hint: `applications reach a read-only server; move the role with a swap, or SET GLOBAL read_only = OFF on ${holders[0]} and ON on ${writable[0]}`,
    });
  }
  for (const n of nodes) {
    if (!n.heartbeatRunning) {
      out.push({ host: n.node.name, status: 'fail', message: 'Heartbeat is not running', hint: `service heartbeat start on ${n.node.name}; without it the floating IP does not move on failure` });
    }
  }
  if (out.length === 0) {
    const writer = known ? `${writable[0]} is the only writable node and holds ${vip}` : `${holders[0]} holds ${vip} (which node is writable is unknown: see the replication findings)`;
    out.push({ status: 'ok', message: `${writer}; Heartbeat runs on both` });
    if (known && writerSemiSyncReplicas === 0) {
      const peer = nodes.find((n) => n.node.name !== writable[0])!.node.name;
      out.push({
        host: writable[0],
        status: 'warn',
        message: `the writer commits alone: no semi-sync replica is connected, so a crash of ${writable[0]} now can lose its last acknowledged writes`,
        hint: `the replica on ${peer} is not connected to ${writable[0]}: see the replication findings, and START SLAVE IO_THREAD on ${peer} (or run provision)`,
      });
    }
  }
  return findings('roles', pair, out);
}

/**
 * Where a connection to the floating IP lands, probed from the node without it: the greeting's
 * connection id names a pending login on exactly one server. `writable`: the nodes with read_only
 * OFF, undefined when a server could not be asked.
 */
export function checkVipRoute(
  pair: PairSpec,
  from: string,
  answer: PortAnswer,
  reached: string[],
  writable: string[] | undefined,
  route: { check: CheckName; target: string } = { check: 'roles', target: `${pair.vip.address}:${MYSQL_PORT}` },
): Finding[] {
  const { target } = route;
  const out: Draft[] = [];
  if (answer.kind === 'no answer') {
    out.push({ status: 'fail', message: `from ${from}, ${target} does not answer: ${answer.reason}`, hint: 'check that mysqld on the writer listens on all addresses (bind_address) and that the floating IP is up' });
  } else if (answer.kind === 'error') {
    out.push({ status: 'warn', message: `from ${from}, ${target} answers with error ${answer.code} (${answer.message}), so the server it reaches cannot be told`, hint: 'the replication account for this address is missing on the writer; run provision' });
  } else if (reached.length !== 1) {
    out.push({ status: 'warn', message: `from ${from}, ${target} answers, but connection id ${answer.connectionId} is pending on ${reached.length === 0 ? 'neither node' : 'both nodes'}`, hint: 'run verify again' });
  } else if (writable && !writable.includes(reached[0]!)) {
    out.push({ status: 'fail', message: `${target} reaches ${reached[0]}, which is read-only`, hint: 'applications cannot write; see the roles findings' });
  } else {
    out.push({ status: 'ok', message: `from ${from}, ${target} reaches ${reached[0]}${writable ? ', a writable node' : ''}` });
  }
  return findings(route.check, pair, out);
}

// ---------------------------------------------------------------------------------------------
// Canary

export type CanaryOutcome =
  | { kind: 'arrived'; ms: number }
  | { kind: 'timeout'; ms: number }
  /** Not attempted: the finding that explains why is already there. */
  | { kind: 'skipped'; reason: string }
  | { kind: 'error'; message: string; hint?: string | undefined };

export function canaryFinding(pair: PairSpec, from: NodeSpec, to: NodeSpec, outcome: CanaryOutcome): Finding {
  const route = `${from.name} -> ${to.name}`;
  const base = { check: 'canary' as const, pair: pair.name, host: from.name };
  switch (outcome.kind) {
    case 'arrived':
      return { ...base, status: 'ok', message: `${route}: a row written on ${from.name} arrived on ${to.name} in ${outcome.ms} ms`, figures: { roundTripMs: outcome.ms } };
    case 'timeout':
      return {
        ...base,
        status: 'fail',
        message: `${route}: a row written on ${from.name} did not arrive on ${to.name} within ${outcome.ms} ms`,
        hint: `replication ${from.name} -> ${to.name} is stalled or silently dropping events (same server_id? see the replication and config findings)`,
        figures: { timeoutMs: outcome.ms },
      };
    case 'skipped':
      return { ...base, status: 'fail', message: `${route}: not attempted: ${outcome.reason}`, hint: `fix replication on ${to.name} first (see its replication findings)` };
    case 'error':
      return { ...base, status: 'fail', message: `${route}: ${outcome.message}`, hint: outcome.hint ?? 'run provision: it creates duet\'s schema and tables' };
  }
}

// ---------------------------------------------------------------------------------------------
// Data consistency

/** Schemas whose tables are compared: the replicated ones, without duet's own bookkeeping. */
export function comparedSchemas(inv: Inventory, present: string[], duetSchema: string): string[] {
  const system = new Set(['mysql', 'information_schema', 'performance_schema', 'sys', duetSchema, ...inv.mysql.ignoreDatabases]);
  const candidates = inv.mysql.databases.length > 0 ? inv.mysql.databases : present;
  return [...new Set(candidates)].filter((s) => !system.has(s)).sort();
}

export interface ChecksumRound {
  checksums: [Map<string, string | null>, Map<string, string | null>];
  /** Neither binlog moved while the tables were read, after each node applied the other's writes. */
  quiet: boolean;
}

/**
 * Tables whose checksums differ. A difference measured while a binlog moved may be a write in flight,
 * so it is a warning; one measured on a quiet pair is a fact.
 */
export function checkConsistency(pair: PairSpec, round: ChecksumRound, attempts: number): Finding[] {
  const [a, b] = pair.nodes;
  const [sumsA, sumsB] = round.checksums;
  const tables = [...new Set([...sumsA.keys(), ...sumsB.keys()])].sort();
  const differing: string[] = [];
  const missing: string[] = [];
  for (const table of tables) {
    const x = sumsA.get(table) ?? null;
    const y = sumsB.get(table) ?? null;
    if (x === null || y === null) missing.push(`${table} (missing on ${x === null ? a.name : b.name})`);
    else if (x !== y) differing.push(table);
  }
  const figures = { tables: tables.length, differing: differing.length + missing.length, attempts };
  if (differing.length === 0 && missing.length === 0) {
    return findings('consistency', pair, [{ status: 'ok', message: `${tables.length} replicated table(s) have the same checksum on both nodes`, figures }]);
  }
  const what = [...differing, ...missing].join(', ');
  if (!round.quiet) {
    return findings('consistency', pair, [
      {
        status: 'warn',
        message: `checksums differ for ${what}, but the pair kept writing during ${attempts} attempt(s)`,
        hint: 'run verify again when writes pause; a difference that stays is real',
        figures,
      },
    ]);
  }
  return findings('consistency', pair, [
    {
      status: 'fail',
      message: `the data differ between ${a.name} and ${b.name}: ${what}`,
      hint: `both nodes had applied each other's writes and neither was writing; a change made with sql_log_bin = 0, on both sides while replication was broken, or a skipped event. Compare the rows (e.g. SELECT ... ORDER BY the primary key on both), make them equal with sql_log_bin = 0, or rebuild the wrong node from the other`,
      figures,
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Accounts

/** How many wildcard accounts a finding names before it says "and N more". */
const ACCOUNTS_NAMED = 10;

/**
 * Accounts that allow logins from a wildcard host (`wildcard`, from Dialect.wildcardAccounts). Not a
 * failure: the pair works, but such an account is open from every address the firewall lets through
 * (MySQL is open to firewall.mysql_from on the floating IP), where duet grants by single address.
 */
export function checkAccounts(pair: PairSpec, node: NodeSpec, wildcard: Account[]): Finding[] {
  if (wildcard.length === 0) {
    return findings('accounts', pair, [{ host: node.name, status: 'ok', message: 'no account allows logins from a wildcard host', figures: { wildcardAccounts: 0 } }]);
  }
  const named = wildcard.slice(0, ACCOUNTS_NAMED).map((a) => `'${a.user}'@'${a.host}'`);
  const more = wildcard.length > ACCOUNTS_NAMED ? ` and ${wildcard.length - ACCOUNTS_NAMED} more` : '';
  const first = wildcard[0]!;
  return findings('accounts', pair, [
    {
      host: node.name,
      status: 'warn',
      message: `${wildcard.length} account(s) allow logins from a wildcard host: ${named.join(', ')}${more}`,
      hint: `grant each to the addresses that need it (e.g. RENAME USER '${first.user}'@'${first.host}' TO '${first.user}'@'ADDRESS' on ${node.name}), or drop it if unused`,
      figures: { wildcardAccounts: wildcard.length },
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Drift

/** The managed files that differ from what the inventory renders now. */
export function checkDrift(pair: PairSpec, node: HostSpec, changes: FileChange[], managedCount: number): Finding[] {
  if (changes.length === 0) {
    return findings('drift', pair, [{ host: node.name, status: 'ok', message: `all ${managedCount} managed files are as the inventory renders them` }]);
  }
  return findings('drift', pair, [
    {
      host: node.name,
      status: 'fail',
      message: `${changes.length} managed file(s) differ from the inventory: ${changes.map((c) => `${c.file.path} (${c.reasons.join('; ')})`).join(', ')}`,
      hint: `provision --dry-run --limit ${node.name} shows the diff; provision puts the files back (put a wanted change into the inventory first)`,
      figures: { driftedFiles: changes.length },
    },
  ]);
}

/**
 * The load-balanced tier (from status's reading of it): its floating IP on exactly one load
 * balancer, HAProxy and Heartbeat on both, and the write listener sending to the pair's writer.
 */
export function checkLoadBalancers(pair: PairSpec, tier: { holder: string | undefined; writeBackend: string | undefined; warnings: string[] }): Finding[] {
  if (tier.warnings.length > 0) {
    return findings('balancers', pair, tier.warnings.map((message) => ({ status: 'fail', message, hint: 'duet status shows the tier; provision starts what is not running; /var/log/ha-log on the load balancers' })));
  }
  return findings('balancers', pair, [
    { status: 'ok', message: `${tier.holder ?? '?'} holds ${pair.loadBalancers?.vip.address ?? '?'} alone; HAProxy and Heartbeat run on both; writes go to ${tier.writeBackend ?? '?'}` },
  ]);
}

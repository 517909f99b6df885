// Carries out a pair's plan (src/plan/pair.ts) after the files: servers started, the accounts, a first
// copy of existing data, each node replicating from its peer, the schemas, exactly one writable node,
// Heartbeat running with the floating IP on the writer. Converge decides nothing itself: it reads the
// pair (readConvergeFacts) and runs what planPair says, in the plan's order.
//
// The plan provision shows is made before any file changes. Files can change what runs (a restarted
// server comes up read-only, its peer's replica loses it for a moment), and a server that was not
// running has no answers yet; so converge reads the pair again and plans again, with the same pure
// function, before it changes anything: once after the files, and once more after starting servers.
import { audit, type ChangeKind } from '../audit.ts';
import { HostStateError, ReplicationError, TransportError } from '../errors.ts';
import type { Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';
import { MYSQL_PORT, peerOf } from '../inventory/model.ts';
import type { Secret } from '../inventory/secret.ts';
import {
  changeSource,
  ensureDatabase,
  ensureLockedAccount,
  ensureServiceAccount,
  FENCE_ACCOUNT,
  readInstanceState,
  REPLICATION_ACCOUNT,
  setReadOnly,
  startReplica,
  stopReplica,
} from '../mysql/dao.ts';
import { TOPOLOGY_TABLE } from '../mysql/dialect.ts';
import { ensureDuetSchema } from '../mysql/duet-schema.ts';
import { DUET_SCHEMA } from '../inventory/validate.ts';
import type { HostFacts } from '../plan/facts.ts';
import { byNode, convergeStages, heartbeatDelaySeconds, planPair, type AccountName, type PairAction, type PairPlanInput } from '../plan/pair.ts';
import { FENCE_USER, LOAD_BALANCER_ACCOUNT, TLS_PATHS, WRITER_RESOURCE } from '../render/desired.ts';
import type { HostPool } from '../transport/pool.ts';
import { NodeConnections, readConvergeFacts, vipHolders, type HostProbe } from './pair-state.ts';
import { copyData } from './seed.ts';
import { awaitAddressCommand, HEARTBEAT_RESOURCES_COMMAND, mysqlUnit, serviceCommand, takeGroupCommand, withoutInheritedPipes } from './services.ts';
import { readTopology, recordWriter, topologyNames } from './topology.ts';

export interface PairConvergence {
  pair: string;
  writer: string;
  /** What the plan said before anything changed (provision's plan, --dry-run, --json). */
  planned: PairAction[];
  /** What was done, in order; empty when the pair was already as desired. */
  actions: string[];
  error?: string;
}

export interface ConvergeContext {
  pool: HostPool;
  /** The node that is (or becomes) writable and holds the floating IP. */
  writer: string;
  facts: Map<string, HostFacts>;
  log: (line: string) => void;
}

const POLL_MS = 250;
const SERVICE_TIMEOUT_MS = 120_000;

/** Reads the pair and plans it (nothing is changed). */
/** `known`: the nodes' probes from facts just gathered (readConvergeFacts). */
export async function planPairNow(inv: Inventory, pair: PairSpec, conn: NodeConnections, input: PairPlanInput, known?: ReadonlyMap<string, HostProbe>): Promise<PairAction[]> {
  return planPair(await readConvergeFacts(inv, pair, conn, known), inv, pair, input);
}

export async function convergePair(inv: Inventory, pair: PairSpec, ctx: ConvergeContext, planned: PairAction[]): Promise<PairConvergence> {
  const result: PairConvergence = { pair: pair.name, writer: ctx.writer, planned, actions: [] };
  const conn = new NodeConnections(ctx.pool);
  // Every change: the report, the progress line, and the audit log.
  const run = new Runner(inv, pair, ctx, conn, (line, node, kind) => {
    result.actions.push(line);
    ctx.log(`${pair.name}: ${line}`);
    audit({ host: node, phase: 'converge', kind, what: line, ...(kind === 'role' && { pair: pair.name, writer: ctx.writer }) });
  });
  try {
    let plan = await planPairNow(inv, pair, conn, { writer: ctx.writer });
    const starts = plan.filter((a) => a.kind === 'start-mysql');
    if (starts.length > 0) {
      for (const action of starts) await run.carryOut(action);
      // Now the servers can answer what the plan could only assume.
      plan = await planPairNow(inv, pair, conn, { writer: ctx.writer });
      const still = plan.find((a) => a.kind === 'start-mysql');
      if (still) throw new HostStateError(`the server was started but does not run`, { host: still.node, hint: 'see the server\'s error log' });
    }
    const stages = convergeStages(plan);
    // Early, what comes before Heartbeat is the accounts and read_only: each node's own, independent
    // of its peer's. Otherwise the plan's order across nodes matters (a replica pointed at the new
    // password before the account gets it, data copied before replicating): one action at a time.
    if (stages.early) await run.eachNodeAtOnce(stages.before);
    else for (const action of stages.before) await run.carryOut(action);
    if (stages.heartbeat.length > 0) {
      // Heartbeat on both nodes together (a node alone would take the resources after initdead).
      await Promise.all(stages.heartbeat.map((action) => run.carryOut(action)));
      const started = Date.now();
      if (stages.during.length > 0) {
        ctx.log(`${pair.name}: Heartbeat takes its resources no sooner than ${heartbeatDelaySeconds(pair)} s from now; meanwhile: ${stages.during.length} action(s) on the servers`);
        await run.eachNodeAtOnce(stages.during);
        const took = (Date.now() - started) / 1000;
        if (took >= heartbeatDelaySeconds(pair)) {
          ctx.log(`${pair.name}: WARNING: the servers' setup took ${took.toFixed(1)} s after Heartbeat started: ${WRITER_RESOURCE} may have run before it was done (see /var/log/ha-log on ${ctx.writer})`);
        }
      }
      try {
        await run.awaitWriter(started, stages.heartbeat.some((a) => a.kind === 'start-heartbeat'));
      } catch (err) {
        // Heartbeat's start-up can lose the start of the writer's resources (a message garbled in its
        // FIFO on a busy host): read again, the plan then starts them (take-resources), once.
        const repair = (await planPairNow(inv, pair, conn, { writer: ctx.writer })).filter((a) => a.kind === 'take-resources');
        if (!(err instanceof ReplicationError) || repair.length === 0) throw err;
        for (const action of repair) await run.carryOut(action);
        await run.awaitWriter(Date.now(), false);
      }
    }
    for (const action of stages.after) await run.carryOut(action);
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    ctx.log(`${pair.name}: FAILED: ${result.error}`);
  } finally {
    await conn.closeMysql();
  }
  return result;
}

/** Runs one action at a time; each reports what it did through `done`. */
class Runner {
  constructor(
    readonly inv: Inventory,
    readonly pair: PairSpec,
    readonly ctx: ConvergeContext,
    readonly conn: NodeConnections,
    readonly done: (line: string, node: string, kind: ChangeKind) => void,
  ) {}

  node(name: string): NodeSpec {
    const node = this.pair.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`converge: ${name} is not a node of pair ${this.pair.name}`);
    return node;
  }

  session(name: string) {
    return this.conn.mysql(this.node(name));
  }

  async service(name: string, unit: string): Promise<void> {
    const command = serviceCommand(this.ctx.facts.get(name)!.initSystem, unit, 'start');
    await (await this.conn.ssh(this.node(name))).run(withoutInheritedPipes(command), { timeoutMs: SERVICE_TIMEOUT_MS });
  }

  /** Each node's actions in order, the two nodes at once (their servers are independent). */
  async eachNodeAtOnce(actions: PairAction[]): Promise<void> {
    await Promise.all(byNode(actions).map(async (mine) => {
      for (const action of mine) await this.carryOut(action);
    }));
  }

  async carryOut(action: PairAction): Promise<void> {
    switch (action.kind) {
      case 'start-mysql':
        await this.service(action.node, mysqlUnit(this.inv.mysql.flavor));
        break;
      case 'account': {
        const peer = peerOf(this.pair, this.node(action.node));
        const [user, password, kind] = this.account(action.account);
        await ensureServiceAccount(await this.session(action.node), { user, host: peer.address }, password, kind);
        break;
      }
      case 'copy-data': {
        this.ctx.log(`${this.pair.name}: ${action.text}`);
        const position = await copyData({ kind: 'copy', from: this.node(action.from), to: this.node(action.node), databases: action.databases }, this.conn);
        this.done(`${action.text}: at GTID ${position || 'start'}`, action.node, 'data');
        return;
      }
      case 'point-replica': {
        const peer = this.node(action.source);
        const { user, password } = this.inv.mysql.replication;
        await changeSource(await this.session(action.node), { host: peer.address, port: MYSQL_PORT, user, password, useGtid: true, tls: TLS_PATHS });
        break;
      }
      case 'start-replication': {
        // Both threads restarted: an I/O thread that lost its source (a restart by this run) would
        // otherwise wait out MASTER_CONNECT_RETRY before it tries again.
        const session = await this.session(action.node);
        await stopReplica(session);
        await startReplica(session);
        break;
      }
      case 'create-database':
        await ensureDatabase(await this.session(action.node), action.database);
        break;
      case 'create-duet-schema':
        await ensureDuetSchema(await this.session(action.node));
        break;
      case 'balancer-account':
        await ensureLockedAccount(await this.session(action.node), { user: LOAD_BALANCER_ACCOUNT, host: action.host });
        break;
      case 'read-only':
        await setReadOnly(await this.session(action.node), action.on);
        break;
      case 'start-heartbeat':
        await this.service(action.node, 'heartbeat');
        break;
      case 'take-resources': {
        const took = await (await this.conn.ssh(this.node(action.node))).exec(takeGroupCommand(WRITER_RESOURCE), { timeoutMs: SERVICE_TIMEOUT_MS });
        if (took.code !== 0) {
          const status = took.stdout.trim() || 'no answer';
          throw new HostStateError(`Heartbeat runs but does not hold the resources of ${action.node} (cl_status rscstatus: ${status}), and neither node has the floating IP ${this.pair.vip.address}`, {
            host: action.node,
            hint: took.code === 3 ? 'wait until Heartbeat has settled and run provision again; if it stays so, restart Heartbeat on both nodes (the writer last)' : `ResourceManager exited ${took.code}: see /var/log/ha-log on ${action.node}`,
          });
        }
        break;
      }
      case 'record-writer':
        if (!(await this.recordWriter())) return;
        break;
    }
    this.done(action.text, action.node, action.kind === 'start-mysql' || action.kind === 'start-heartbeat' ? 'service' : action.kind === 'record-writer' || action.kind === 'take-resources' ? 'role' : 'sql');
  }

  account(name: AccountName): [string, Secret, typeof REPLICATION_ACCOUNT] {
    return name === 'replication'
      ? [this.inv.mysql.replication.user, this.inv.mysql.replication.password, REPLICATION_ACCOUNT]
      : [FENCE_USER, this.pair.failover.fencePassword, FENCE_ACCOUNT];
  }

  /** Records the writer in duet.topology unless it is named there already; true when it wrote. */
  async recordWriter(): Promise<boolean> {
    const session = await this.session(this.ctx.writer);
    const view = await readTopology(session);
    if (topologyNames(view, this.pair, this.ctx.writer)) return false;
    await recordWriter(session, this.pair, this.ctx.writer);
    return true;
  }

  /**
   * After Heartbeat started: the floating IP on the writer (Heartbeat acquires it only after
   * initdead, both nodes starting, or deadtime), the writer writable (its duet-writer resource did
   * that) and named in duet.topology.
   */
  async awaitWriter(heartbeatStarted: number, started: boolean): Promise<void> {
    const { pair, ctx } = this;
    const waitSeconds = pair.heartbeat.initdead + pair.heartbeat.deadtime + 10;
    const left = Math.max(0, heartbeatDelaySeconds(pair) - (Date.now() - heartbeatStarted) / 1000);
    const when = started ? `Heartbeat takes its resources about ${left.toFixed(0)} s from now (${heartbeatDelaySeconds(pair)} s after both nodes started), then ` : 'its resources were started: ';
    ctx.log(
      `${pair.name}: waiting for the floating IP ${pair.vip.address} on ${ctx.writer}: ${when}${WRITER_RESOURCE} fences the peer; at most ${waitSeconds} s (longer while Heartbeat is still taking its resources)`,
    );
    await waitForVip(this.conn, pair, this.node(ctx.writer), { from: heartbeatStarted, seconds: waitSeconds }, ctx.log);
    ctx.log(`${pair.name}: the floating IP is up on ${ctx.writer}, ${((Date.now() - heartbeatStarted) / 1000).toFixed(1)} s after ${started ? 'Heartbeat started' : 'its resources were started'}`);
    if ((await readInstanceState(await this.session(ctx.writer))).readOnly) {
      throw new ReplicationError(`${ctx.writer} holds the floating IP but is still read-only`, {
        host: ctx.writer,
        hint: `the ${WRITER_RESOURCE} resource did not make it writable: see /var/log/ha-log on ${ctx.writer} (a relay log it could not apply?)`,
      });
    }
    if (await this.recordWriter()) this.done(`recorded ${ctx.writer} as the writer in ${DUET_SCHEMA}.${TOPOLOGY_TABLE}`, ctx.writer, 'role');
  }
}

/**
 * Waits for the floating IP on the writer, on the writer itself (awaitAddressCommand: no polling over
 * SSH, which would load a fleet's hosts at the moment they take their resources), until `seconds`
 * after Heartbeat started. Past that, as long as Heartbeat on the writer says it is still moving
 * resources (`cl_status rscstatus`: transition; on a loaded host each resource script can take
 * seconds), up to SETTLE_MAX_SECONDS: giving up in the middle would end provision's maintenance
 * window while the writer is writable without its IP yet, and its monitor would demote it. Then the
 * address must be on the writer alone.
 */
async function waitForVip(conn: NodeConnections, pair: PairSpec, writer: NodeSpec, when: { from: number; seconds: number }, log: (line: string) => void): Promise<void> {
  let deadline = when.from + when.seconds * 1000;
  let extended = false;
  let holders: string[] = [];
  for (;;) {
    const left = deadline - Date.now();
    if (left > 0) {
      try {
        const ssh = await conn.ssh(writer);
        const found = await ssh.exec(awaitAddressCommand(pair.vip.address, left / 1000), { timeoutMs: left + 10_000 });
        holders = await vipHolders(conn, pair);
        if (holders.length === 1 && holders[0] === writer.name) return;
        if (found.code === 0) {
          // On the writer and on its peer too: Heartbeat's two nodes disagree; that does not settle by waiting.
          if (holders.length > 1) break;
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
        continue;
      } catch (err) {
        // While Heartbeat takes the address, an SSH session to a node has been seen to drop (rarely,
        // cause unknown); the pool reconnects on the next call, so keep waiting until the deadline.
        if (!(err instanceof TransportError)) throw err;
        await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
    }
    if (extended) break;
    const status = await (await conn.ssh(writer)).exec(HEARTBEAT_RESOURCES_COMMAND).catch(() => undefined);
    if (status?.stdout.trim() !== 'transition') break;
    extended = true;
    deadline = when.from + SETTLE_MAX_SECONDS * 1000;
    log(`${pair.name}: Heartbeat on ${writer.name} is still taking its resources after ${when.seconds} s (cl_status rscstatus: transition): waiting until it is done, at most ${SETTLE_MAX_SECONDS} s after it started`);
  }
  holders = await vipHolders(conn, pair).catch(() => holders);
  const waited = Math.round((Date.now() - when.from) / 1000);
  throw new ReplicationError(`the floating IP ${pair.vip.address} is on ${holders.length ? holders.join(' and ') : 'no node'}, not on the writer ${writer.name} alone, ${waited} s after Heartbeat started`, {
    hint: 'check /var/log/ha-log on both nodes, and that Heartbeat packets (udp) pass between them',
  });
}

/** The longest provision waits for Heartbeat to finish taking its resources, from its start. */
const SETTLE_MAX_SECONDS = 120;

// The pair-wide state provision converges after the files: both servers running, the replication
// accounts, each node replicating from its peer, exactly one writable node, Heartbeat running and the
// floating IP on the writer. Each step reads first and changes only what differs.
import { HostStateError, ReplicationError, TransportError } from '../errors.ts';
import type { Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';
import { MYSQL_PORT, peerOf } from '../inventory/model.ts';
import { configureSource, ensureDatabase, ensureFenceUser, ensureReplicationUser, readInstanceState, setReadOnly, startReplica, stopReplica } from '../mysql/dao.ts';
import { TOPOLOGY_TABLE } from '../mysql/dialect.ts';
import { ensureDuetSchema } from '../mysql/duet-schema.ts';
import { DUET_SCHEMA } from '../inventory/validate.ts';
import { FENCE_USER, WRITER_RESOURCE } from '../render/desired.ts';
import { readTopology, recordWriter, topologyNames } from './topology.ts';
import { NodeConnections, probeHost, vipHolders } from './pair-state.ts';
import { copyData, planSeed } from './seed.ts';
import { convergeAgents } from './load-balancers.ts';
import type { HostFacts } from '../plan/facts.ts';
import type { HostPool } from '../transport/pool.ts';
import type { SshConnection } from '../transport/ssh.ts';
import { mysqlUnit, serviceCommand, withoutInheritedPipes } from './services.ts';

export interface PairConvergence {
  pair: string;
  writer: string;
  /** What was changed, in order; empty when the pair was already as desired. */
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

export async function convergePair(inv: Inventory, pair: PairSpec, ctx: ConvergeContext): Promise<PairConvergence> {
  const result: PairConvergence = { pair: pair.name, writer: ctx.writer, actions: [] };
  const act = (line: string) => {
    result.actions.push(line);
    ctx.log(`${pair.name}: ${line}`);
  };
  const conn = new NodeConnections(ctx.pool);
  try {
    for (const node of pair.nodes) {
      const ssh = await conn.ssh(node);
      if (await ensureDaemon(ssh, 'mysql', serviceCommand(ctx.facts.get(node.name)!.initSystem, mysqlUnit(inv.mysql.flavor), 'start'))) {
        act(`started ${mysqlUnit(inv.mysql.flavor)} on ${node.name}`);
      }
      const { dialect } = await conn.mysql(node);
      if (dialect.flavor !== inv.mysql.flavor) {
        throw new HostStateError(`the server is ${dialect.flavor} ${dialect.version.text}, but the inventory says mysql.flavor: ${inv.mysql.flavor}`, {
          host: node.name,
          hint: 'set mysql.flavor to what the hosts run',
        });
      }
    }
    const sessions = new Map(await Promise.all(pair.nodes.map(async (n) => [n.name, await conn.mysql(n)] as const)));
    const session = (node: NodeSpec) => sessions.get(node.name)!;

    // Each node owns the account its peer logs in with (not replicated: host is the peer's address).
    for (const node of pair.nodes) {
      const peer = peerOf(pair, node);
      const account = { user: inv.mysql.replication.user, host: peer.address };
      if ((await ensureReplicationUser(session(node), account, inv.mysql.replication.password)).created) {
        act(`created replication account ${account.user}@${account.host} on ${node.name}`);
      }
      const fence = { user: FENCE_USER, host: peer.address };
      if ((await ensureFenceUser(session(node), fence, pair.failover.fencePassword)).created) {
        act(`created fence account ${fence.user}@${fence.host} on ${node.name}`);
      }
    }

    // A first setup where one node already holds data: copy it to the empty peer before replicating.
    const seed = await planSeed(inv, pair, conn);
    if (seed.kind === 'copy') {
      ctx.log(`${pair.name}: copying ${seed.databases.join(', ')} from ${seed.from.name} to ${seed.to.name}`);
      const position = await copyData(seed, conn);
      act(`copied ${seed.databases.join(', ')} from ${seed.from.name} to ${seed.to.name} (at GTID ${position || 'start'})`);
    }

    for (const node of pair.nodes) {
      const peer = peerOf(pair, node);
      const source = { host: peer.address, port: MYSQL_PORT, user: inv.mysql.replication.user, password: inv.mysql.replication.password, useGtid: true };
      if ((await configureSource(session(node), source)) === 'changed') act(`${node.name} replicates from ${peer.name} (${peer.address})`);
      const state = await readInstanceState(session(node));
      if (state.replica?.ioRunning !== 'Yes' || state.replica.sqlRunning !== 'Yes') {
        // Restart both threads: an I/O thread that lost its source (a restart by this run) would
        // otherwise wait out MASTER_CONNECT_RETRY before it tries again.
        await stopReplica(session(node));
        await startReplica(session(node));
        act(`started replication on ${node.name}`);
      }
    }

    // The application's schemas and duet's own exist on both nodes, so the first write replicates.
    for (const node of pair.nodes) {
      for (const database of inv.mysql.databases) {
        if (await ensureDatabase(session(node), database)) act(`created database ${database} on ${node.name}`);
      }
      for (const what of await ensureDuetSchema(session(node))) act(`created ${what} on ${node.name}`);
    }
    // With load balancers: the writer agent they ask, and an account for their addresses (verify).
    await convergeAgents(pair, conn, ctx.facts, act);

    // Exactly one writer. Both servers start read-only (my.cnf). The write role comes with the
    // floating IP: where Heartbeat is not running yet, its duet-writer resource makes the writer
    // writable as it brings the IP up (a server already writable when Heartbeat starts counts as a
    // running resource, and Heartbeat would then never bring the IP up). Where Heartbeat runs, this
    // restores the writer after provision restarted its server.
    const writerNode = pair.nodes.find((n) => n.name === ctx.writer)!;
    const heartbeatOnWriter = (await probeHost(await conn.ssh(writerNode))).heartbeatRunning;
    for (const node of pair.nodes) {
      const wantReadOnly = node.name !== ctx.writer || !heartbeatOnWriter;
      if ((await readInstanceState(session(node))).readOnly !== wantReadOnly) {
        await setReadOnly(session(node), wantReadOnly);
        act(`${node.name} read_only ${wantReadOnly ? 'ON' : 'OFF'}`);
      }
    }

    const started: string[] = [];
    for (const node of pair.nodes) {
      const ssh = await conn.ssh(node);
      if (await ensureDaemon(ssh, 'heartbeat', serviceCommand(ctx.facts.get(node.name)!.initSystem, 'heartbeat', 'start'))) {
        started.push(node.name);
        act(`started heartbeat on ${node.name}`);
      }
    }
    if (started.length > 0) {
      // Heartbeat acquires the floating IP only after initdead (both nodes starting) or deadtime.
      const waitSeconds = pair.heartbeat.initdead + pair.heartbeat.deadtime + 10;
      ctx.log(`${pair.name}: waiting up to ${waitSeconds} s for the floating IP ${pair.vip.address} on ${ctx.writer}`);
      await waitForVip(conn, pair, ctx.writer, waitSeconds * 1000);
    }

    // Clients learn the writer from duet.topology; the resource script keeps it current from here on.
    if (!(await readInstanceState(session(writerNode))).readOnly) {
      const view = await readTopology(session(writerNode));
      if (!topologyNames(view, pair, ctx.writer)) {
        await recordWriter(session(writerNode), pair, ctx.writer);
        act(`recorded ${ctx.writer} as the writer in ${DUET_SCHEMA}.${TOPOLOGY_TABLE} (epoch ${view.epoch + 1})`);
      }
    } else {
      throw new ReplicationError(`${ctx.writer} holds the floating IP but is still read-only`, {
        host: ctx.writer,
        hint: `the ${WRITER_RESOURCE} resource did not make it writable: see /var/log/ha-log on ${ctx.writer} (a relay log it could not apply?)`,
      });
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    ctx.log(`${pair.name}: FAILED: ${result.error}`);
  } finally {
    await conn.closeMysql();
  }
  return result;
}

async function ensureDaemon(ssh: SshConnection, daemon: 'mysql' | 'heartbeat', startCommand: string): Promise<boolean> {
  const probe = await probeHost(ssh);
  if (daemon === 'mysql' ? probe.mysqlRunning : probe.heartbeatRunning) return false;
  await ssh.run(withoutInheritedPipes(startCommand), { timeoutMs: 120_000 });
  return true;
}

async function waitForVip(conn: NodeConnections, pair: PairSpec, writer: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let holders: string[] = [];
  while (Date.now() < deadline) {
    try {
      holders = await vipHolders(conn, pair);
      if (holders.length === 1 && holders[0] === writer) return;
    } catch (err) {
      // While Heartbeat takes the address, an SSH session to a node has been seen to drop (rarely,
      // cause unknown); the pool reconnects on the next call, so keep polling until the deadline.
      if (!(err instanceof TransportError)) throw err;
    }
    await new Promise((r) => setTimeout(r, POLL_MS * 4));
  }
  throw new ReplicationError(`the floating IP ${pair.vip.address} is on ${holders.length ? holders.join(' and ') : 'no node'}, not on the writer ${writer}, after ${Math.round(timeoutMs / 1000)} s`, {
    hint: 'check /var/log/ha-log on both nodes, and that Heartbeat packets (udp) pass between them',
  });
}

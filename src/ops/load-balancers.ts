// The load-balanced tier in front of a pair (README "Load balancers"): its live state (who holds the
// tier's floating IP, HAProxy and Heartbeat running, which database node each listener sends to),
// what provision converges on it, and the pure judgements status and verify make of that state.
import { TransportError } from '../errors.ts';
import type { HostSpec, LoadBalancerTier, PairSpec } from '../inventory/model.ts';
import type { HostFacts } from '../plan/facts.ts';
import { HAPROXY_STATS_SOCKET, HAPROXY_WRITE_LISTENER } from '../render/desired.ts';
import type { HostPool } from '../transport/pool.ts';
import type { SshConnection } from '../transport/ssh.ts';
import { NodeConnections } from './pair-state.ts';
import { serviceCommand, withoutInheritedPipes } from './services.ts';

export interface BackendServer {
  /** The HAProxy listener (proxy) name: writer or reader. */
  listener: string;
  /** The database node's name. */
  server: string;
  /** HAProxy's word: UP, DOWN, MAINT, "UP 1/2" (going down), "DOWN 1/2" (coming up)... */
  status: string;
}

export interface LoadBalancerLive {
  host: HostSpec;
  /** Why SSH failed; everything else is then unknown. */
  unreachable?: string;
  holdsVip: boolean;
  haproxyRunning: boolean;
  heartbeatRunning: boolean;
  /** From HAProxy's admin socket; empty when it did not answer. */
  servers: BackendServer[];
}

export interface TierStatus {
  pair: string;
  vip: string;
  /** The load balancer holding the tier's floating IP, when exactly one does. */
  holder: string | undefined;
  /** The database node the write listener sends new connections to, when exactly one is up there. */
  writeBackend: string | undefined;
  loadBalancers: LoadBalancerLive[];
  warnings: string[];
}

/**
 * HAProxy's `show stat` CSV (first line `# pxname,svname,...`): each listener's servers with their
 * status. The FRONTEND and BACKEND summary rows are left out.
 */
export function parseHaproxyStat(csv: string): BackendServer[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const columns = header.slice(2).split(',');
  const at = (name: string) => columns.indexOf(name);
  const [px, sv, st] = [at('pxname'), at('svname'), at('status')];
  if (px < 0 || sv < 0 || st < 0) return [];
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.split(','))
    .filter((f) => f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND')
    .map((f) => ({ listener: f[px] ?? '', server: f[sv] ?? '', status: f[st] ?? '' }));
}

const MARK = '@@duet-lb';

/** One round trip: daemons, addresses and HAProxy's view of its servers (read-only). */
export function loadBalancerProbeScript(): string {
  return [
    `for p in heartbeat haproxy; do if pidof "$p" >/dev/null 2>&1; then echo "running $p"; fi; done`,
    "ip -4 -o addr show scope global | awk '{print \"address\", $4}'",
    `echo '${MARK} stat'`,
    `if [ -S ${HAPROXY_STATS_SOCKET} ]; then echo 'show stat' | socat -t 2 stdio UNIX-CONNECT:${HAPROXY_STATS_SOCKET} 2>/dev/null; fi; true`,
  ].join('\n');
}

export function parseLoadBalancerProbe(host: HostSpec, tier: LoadBalancerTier, output: string): LoadBalancerLive {
  const [head = '', stat = ''] = output.split(`${MARK} stat\n`);
  const lines = head.split('\n');
  return {
    host,
    holdsVip: lines.some((l) => l.startsWith('address ') && l.slice('address '.length).split('/')[0] === tier.vip.address),
    haproxyRunning: lines.includes('running haproxy'),
    heartbeatRunning: lines.includes('running heartbeat'),
    servers: parseHaproxyStat(stat),
  };
}

export async function readLoadBalancer(conn: NodeConnections, tier: LoadBalancerTier, host: HostSpec): Promise<LoadBalancerLive> {
  try {
    const ssh = await conn.ssh(host);
    return parseLoadBalancerProbe(host, tier, (await ssh.run(loadBalancerProbeScript())).stdout);
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    return { host, unreachable: err.message, holdsVip: false, haproxyRunning: false, heartbeatRunning: false, servers: [] };
  }
}

/** The servers HAProxy marks UP (not "UP 1/2", which is going down) in one listener. */
export function upServers(live: LoadBalancerLive, listener: string): string[] {
  return live.servers.filter((s) => s.listener === listener && s.status === 'UP').map((s) => s.server);
}

/**
 * The tier as status shows it, with warnings for what hurts: the floating IP on none or both, HAProxy
 * or Heartbeat down, the write listener sending to no node, to both, or to another node than the
 * pair's writer (`writer`: the pair's one writable node, when known).
 */
export function assessTier(pair: PairSpec, live: LoadBalancerLive[], writer: string | undefined): TierStatus {
  const tier = pair.loadBalancers!;
  const warnings: string[] = [];
  const reachable = live.filter((l) => !l.unreachable);
  for (const l of live) if (l.unreachable) warnings.push(`cannot reach load balancer ${l.host.name} over SSH: ${l.unreachable}`);
  const holders = live.filter((l) => l.holdsVip);
  if (holders.length === 0) warnings.push(`the load balancers' floating IP ${tier.vip.address} is on NO load balancer: applications reach no server`);
  if (holders.length === 2) warnings.push(`the load balancers' floating IP ${tier.vip.address} is on BOTH load balancers (split brain)`);
  for (const l of reachable) {
    if (!l.haproxyRunning) warnings.push(`HAProxy is not running on ${l.host.name}`);
    if (!l.heartbeatRunning) warnings.push(`Heartbeat is not running on ${l.host.name}: nothing moves the tier's floating IP if the other load balancer fails`);
  }
  const active = holders.length === 1 ? holders[0]! : undefined;
  const ups = active ? upServers(active, HAPROXY_WRITE_LISTENER) : [];
  if (active?.haproxyRunning) {
    if (ups.length === 0) warnings.push(`HAProxy on ${active.host.name} sends writes to NO database node: no writer agent answers up (is a node writable? does ${tier.agentPort}/tcp pass?)`);
    else if (ups.length > 1) warnings.push(`HAProxy on ${active.host.name} sees BOTH database nodes writable (${ups.join(', ')}); writes go to ${ups[0]}`);
    else if (writer !== undefined && ups[0] !== writer) warnings.push(`HAProxy on ${active.host.name} sends writes to ${ups[0]}, but the writer is ${writer}`);
  }
  return {
    pair: pair.name,
    vip: tier.vip.address,
    holder: active?.host.name,
    writeBackend: ups.length >= 1 ? ups[0] : undefined,
    loadBalancers: live,
    warnings,
  };
}

export function formatTierStatus(s: TierStatus): string {
  const head = `load balancers of pair ${s.pair}: floating IP ${s.vip} on ${s.holder ?? 'NO single load balancer'}, writes to ${s.writeBackend ?? 'NO node'}`;
  const lines = s.loadBalancers.map((l) => {
    if (l.unreachable) return `LB: ${l.host.name} UNREACHABLE (${l.unreachable})`;
    const servers = [...new Set(l.servers.map((b) => b.listener))].map((listener) => {
      const list = l.servers.filter((b) => b.listener === listener).map((b) => `${b.server} ${b.status}`);
      return `${listener}: ${list.join(', ')}`;
    });
    const parts = [l.holdsVip ? 'has the IP' : 'no IP', `haproxy ${l.haproxyRunning ? 'running' : 'NOT running'}`, `heartbeat ${l.heartbeatRunning ? 'running' : 'NOT running'}`, ...servers];
    return `LB: ${l.host.name} ${parts.join(', ')}`;
  });
  return [head, ...lines, ...s.warnings.map((w) => `WARNING: ${w}`)].join('\n');
}

export async function readTierStatus(conn: NodeConnections, pair: PairSpec, writer: string | undefined): Promise<TierStatus> {
  const tier = pair.loadBalancers!;
  const live = await Promise.all(tier.nodes.map((host) => readLoadBalancer(conn, tier, host)));
  return assessTier(pair, live, writer);
}

// ---------------------------------------------------------------------------------------------
// provision

export interface TierConvergence {
  pair: string;
  /** The load balancer holding the tier's floating IP at the end. */
  holder: string | undefined;
  actions: string[];
  error?: string;
}

const POLL_MS = 250;

async function isRunning(ssh: SshConnection, check: string): Promise<boolean> {
  return (await ssh.exec(check)).code === 0;
}

/** Starts a service unless `running` (a shell test) says it runs; true when it had to. */
async function ensureService(ssh: SshConnection, running: string, start: string): Promise<boolean> {
  if (await isRunning(ssh, running)) return false;
  await ssh.run(withoutInheritedPipes(start), { timeoutMs: 120_000 });
  return true;
}

/**
 * After the files (which start or reload HAProxy, daemonRepairs starting it where it does not run):
 * Heartbeat running on both load balancers (the files' apply leaves a Heartbeat that does not run
 * to this step; daemonRepairs list it in the plan) and the tier's floating IP on exactly one (where
 * it is; on a fresh tier Heartbeat gives it to the first node), and the write listener sending to
 * the pair's writer. Reads first; a second run changes nothing.
 */
export async function convergeLoadBalancers(pair: PairSpec, ctx: { pool: HostPool; facts: Map<string, HostFacts>; writer: string | undefined; log: (line: string) => void }): Promise<TierConvergence> {
  const tier = pair.loadBalancers!;
  const result: TierConvergence = { pair: pair.name, holder: undefined, actions: [] };
  const act = (line: string) => {
    result.actions.push(line);
    ctx.log(`${pair.name} load balancers: ${line}`);
  };
  const conn = new NodeConnections(ctx.pool);
  try {
    const started: string[] = [];
    for (const host of tier.nodes) {
      const ssh = await conn.ssh(host);
      const init = ctx.facts.get(host.name)!.initSystem;
      if (await ensureService(ssh, 'pidof heartbeat >/dev/null', serviceCommand(init, 'heartbeat', 'start'))) {
        started.push(host.name);
        act(`started heartbeat on ${host.name}`);
      }
    }
    const waitSeconds = started.length > 0 ? tier.heartbeat.initdead + tier.heartbeat.deadtime + 10 : 5;
    if (started.length > 0) ctx.log(`${pair.name} load balancers: waiting up to ${waitSeconds} s for the floating IP ${tier.vip.address}`);
    const deadline = Date.now() + waitSeconds * 1000;
    let status = await readTierStatus(conn, pair, ctx.writer);
    // Exactly one holder, and (when the pair has a writer) HAProxy there sending writes to it.
    const settled = (s: TierStatus) => s.holder !== undefined && (ctx.writer === undefined || s.writeBackend === ctx.writer);
    while (!settled(status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      status = await readTierStatus(conn, pair, ctx.writer);
    }
    result.holder = status.holder;
    if (!settled(status)) {
      result.error = status.warnings.join('; ') || `the tier did not settle within ${waitSeconds} s`;
      ctx.log(`${pair.name} load balancers: FAILED: ${result.error}`);
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    ctx.log(`${pair.name} load balancers: FAILED: ${result.error}`);
  } finally {
    await conn.closeMysql();
  }
  return result;
}

// provision: inventory -> facts -> plan -> (ask) -> apply. The plan is each host's files (planHost,
// with the services to repair where what runs differs from unchanged files) and each pair's actions
// (planPair: users, replication both ways, the writable role, Heartbeat), all shown before anything
// changes. Apply goes per pair in a safe order, then converge carries out the pair's actions. Every
// step is idempotent: a second run plans nothing and restarts nothing.
import { afterFirstChange, HostStateError } from '../errors.ts';
import { UsageError } from '../errors.ts';
import { allLoadBalancers, allNodes, peerOf, type HostSpec, type Inventory, type NodeSpec, type PairSpec } from '../inventory/model.ts';
import { readInstanceState, setReadOnly } from '../mysql/dao.ts';
import { AGENT_PACKAGES, factsScript, LOAD_BALANCER_PACKAGES, OPTIONAL_PACKAGES, parseFacts, REQUIRED_PACKAGES, type HostFacts } from '../plan/facts.ts';
import { chooseFirewallBoot, firewallBootEnabled, NO_FIREWALL_BOOT_HINT, type FirewallBootChoice } from '../plan/firewall-boot.ts';
import { describeFirewallBoot, FIREWALL_PATHS, type FirewallBoot } from '../render/firewall-boot.ts';
import { changedFiles, daemonRepairs, hostHasWork, planHost, type HostPlan, type Repair } from '../plan/plan.ts';
import { desiredFiles, HARESOURCES_PATH, loadBalancerFiles, recordedWriter, type DesiredFile } from '../render/desired.ts';
import { firewallReloadReasons } from './verify-firewall.ts';
import { HostPool } from '../transport/pool.ts';
import { mapLimit } from './fan-out.ts';
import type { SshConnection } from '../transport/ssh.ts';
import { applyHostPlan } from './apply.ts';
import { maintenanceCommand } from './services.ts';
import { convergePair, planPairNow, type PairConvergence } from './converge.ts';
import { applyWaves } from '../plan/pair.ts';
import { convergeLoadBalancers, type TierConvergence } from './load-balancers.ts';
import { NodeConnections, probeOf } from './pair-state.ts';
import { preparePki } from './tls.ts';

export interface ProvisionOptions {
  dryRun: boolean;
  /** Asked once, after the plan is shown and before anything changes; false aborts. */
  confirm: (question: string) => Promise<boolean>;
  /** Only these nodes (names); replication and roles of a pair need both of its nodes. */
  limit?: string[] | undefined;
  /** Pairs worked on at once; the two nodes of a serving pair go one after the other (applyWaves). */
  parallel: number;
  /** Progress lines while it runs. */
  log: (line: string) => void;
  /** Called with the plan (every host's changes) before anything is changed or asked. */
  onPlan?: (planned: ProvisionReport) => void;
}

export type HostStatus = 'unchanged' | 'changed' | 'planned' | 'failed' | 'not touched';

export interface HostReport {
  host: string;
  pair: string;
  status: HostStatus;
  changes: Array<{ path: string; action: string; reasons: string[]; diff: string }>;
  /** Services to run although their files are unchanged, and why (the rules in force differ). */
  repairs: Array<{ service: string; reasons: string[] }>;
  /**
   * With firewall.manage: how a boot loads the rules (`boot`: netfilter-persistent, systemd or
   * ifupdown, `reason`: why that one), and IPv6 (`ipv6`: on, or off in the kernel: rules installed, not loaded).
   */
  firewall?: { boot: FirewallBoot; loadedBy: string; reason: string; ipv6: 'on' | 'off' };
  /** Service actions the plan implies (dry run) or that were run. */
  services: string[];
  error?: string;
}

export interface ProvisionReport {
  dryRun: boolean;
  aborted: boolean;
  /** What the controller's TLS folder needs (mysql.tls.dir): a CA created, node certificates issued. */
  tls: string[];
  hosts: HostReport[];
  pairs: PairConvergence[];
  /** The load-balanced tiers converged (pairs with load_balancers). */
  loadBalancers: TierConvergence[];
  summary: { changed: number; failed: number; unchanged: number };
}

interface Work<H extends HostSpec> {
  pair: PairSpec;
  node: H;
  facts: HostFacts;
  plan: HostPlan;
  report: HostReport;
}
type HostWork = Work<NodeSpec>;
type LoadBalancerWork = Work<HostSpec>;

/** Packages to ask dpkg about: every alternative of every flavor and host kind, so the report can say which is there. */
const PACKAGE_QUERY = [...new Set([...[...Object.values(REQUIRED_PACKAGES), AGENT_PACKAGES, LOAD_BALANCER_PACKAGES].flat(2), ...OPTIONAL_PACKAGES])];

export async function provision(loaded: Inventory, opts: ProvisionOptions): Promise<ProvisionReport> {
  const { nodes: selected, loadBalancers } = selectHosts(loaded, opts.limit);
  // The peers' TLS material first (the controller's folder; no host is asked): the CA and every
  // node's certificate, made in a temporary copy where missing or due, kept only once confirmed.
  const pki = await preparePki(loaded, allNodes(loaded).map(({ node }) => node));
  const inv: Inventory = { ...loaded, tlsMaterial: pki.material };
  const pool = new HostPool(inv.ssh);
  try {
    // Facts from every host first: an unreachable host, a wrong key or a wrong host name stops the
    // run before any host is changed.
    const [work, lbWork] = await Promise.all([
      Promise.all(selected.map(({ pair, node }) => gatherHost(pool, pair, node, (ssh) => planNode(inv, ssh, pair, node)))),
      Promise.all(loadBalancers.map(({ pair, host }) => gatherHost(pool, pair, host, (ssh) => planLoadBalancer(inv, ssh, pair, host)))),
    ]);
    // Then each pair's plan, from its live state: a refusal (differing data, extra grants, the wrong
    // server flavor) stops the run here too.
    const pairs = [...new Set([...work, ...lbWork].map((w) => w.pair))];
    const pairPlans = await planPairs(inv, pool, pairs, work, opts.parallel);
    const report: ProvisionReport = {
      dryRun: opts.dryRun,
      aborted: false,
      tls: pki.actions.map((a) => a.text),
      hosts: [...work, ...lbWork].map((w) => w.report),
      pairs: [...pairPlans.values()],
      loadBalancers: [],
      summary: { changed: 0, failed: 0, unchanged: 0 },
    };
    const pending = [...work, ...lbWork].filter((w) => hostHasWork(w.plan));
    const pairActions = report.pairs.reduce((n, p) => n + p.planned.length, 0);
    opts.onPlan?.(report);
    if (opts.dryRun) {
      for (const w of pending) w.report.status = 'planned';
      return summarize(report);
    }
    if (pending.length === 0 && pairActions === 0 && pki.actions.length === 0) return summarize(report);
    if (!(await opts.confirm(`Apply ${describeWork(pending, pairActions, pki.actions.length)}?`))) {
      report.aborted = true;
      return summarize(report);
    }
    // Before any host: the hosts get exactly what the folder then holds.
    await pki.commit();

    // Failures of a host or pair are in the report (exit 1); anything else escaping from here on
    // comes after hosts may have been changed: an ApplyError (exit 5), never "nothing changed".
    await afterFirstChange('provision failed while applying changes', () =>
      mapLimit(pairs, opts.parallel, async (pair) => {
        const hosts = work.filter((w) => w.pair === pair);
        const convergence = hosts.length > 0 ? await provisionPair(inv, pool, pair, hosts, pairPlans.get(pair.name), opts) : undefined;
        if (convergence) report.pairs[report.pairs.findIndex((p) => p.pair === pair.name)] = convergence;
        const balancers = lbWork.filter((w) => w.pair === pair);
        // The tier after its pair: HAProxy then finds a writer to send to.
        if (balancers.length > 0 && (hosts.length === 0 || (convergence !== undefined && convergence.error === undefined))) {
          const tier = await provisionLoadBalancers(inv, pool, pair, balancers, convergence?.writer, opts);
          if (tier) report.loadBalancers.push(tier);
        } else {
          for (const b of balancers) b.report.status = 'not touched';
        }
      }),
    );
    return summarize(report);
  } finally {
    await pki.discard();
    await pool.closeAll();
  }
}

/** The database nodes and load balancers --limit names (all of them without it). */
function selectHosts(inv: Inventory, limit: string[] | undefined): { nodes: Array<{ pair: PairSpec; node: NodeSpec }>; loadBalancers: Array<{ pair: PairSpec; host: HostSpec }> } {
  const all = allNodes(inv);
  const balancers = allLoadBalancers(inv);
  if (!limit || limit.length === 0) return { nodes: all, loadBalancers: balancers };
  const names = [...all.map(({ node }) => node.name), ...balancers.map(({ host }) => host.name)];
  const unknown = limit.filter((name) => !names.includes(name));
  if (unknown.length > 0) throw new UsageError(`--limit names unknown node(s): ${unknown.join(', ')}`, { hint: `nodes in ${inv.file}: ${names.join(', ')}` });
  return { nodes: all.filter(({ node }) => limit.includes(node.name)), loadBalancers: balancers.filter(({ host }) => limit.includes(host.name)) };
}

/** "3 file change(s) on 2 host(s), 1 service repair(s) and 4 pair action(s)". */
function describeWork(pending: Array<Work<HostSpec>>, pairActions: number, tlsActions: number): string {
  const files = pending.reduce((n, w) => n + changedFiles(w.plan).length, 0);
  const repairs = pending.reduce((n, w) => n + w.plan.repairs.length, 0);
  const parts = [
    ...(files > 0 ? [`${files} file change(s) on ${pending.filter((w) => changedFiles(w.plan).length > 0).length} host(s)`] : []),
    ...(repairs > 0 ? [`${repairs} service repair(s)`] : []),
    ...(pairActions > 0 ? [`${pairActions} pair action(s)`] : []),
    ...(tlsActions > 0 ? [`${tlsActions} TLS action(s) on this machine`] : []),
  ];
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts.join('');
}

/**
 * Each pair's plan (both of its nodes selected): what converge will do after the files, from the
 * live state read now. Servers the files restart are planned as coming up read-only.
 */
async function planPairs(inv: Inventory, pool: HostPool, pairs: PairSpec[], work: HostWork[], parallel: number): Promise<Map<string, PairConvergence>> {
  const conn = new NodeConnections(pool);
  const plans = new Map<string, PairConvergence>();
  try {
    // `parallel` pairs read at once; the map keeps the inventory's order.
    const planned = await mapLimit(pairs, parallel, async (pair): Promise<PairConvergence | undefined> => {
      const hosts = work.filter((w) => w.pair === pair);
      if (hosts.length < 2) return undefined;
      const writer = currentWriter(pair, hosts);
      const restarting = new Set(hosts.filter((h) => h.plan.services.includes('mysql') && h.facts.running.mysql).map((h) => h.node.name));
      // The daemons and addresses are in the facts just read: no host is probed again.
      const known = new Map(hosts.map((h) => [h.node.name, probeOf(h.facts)]));
      return { pair: pair.name, writer, planned: await planPairNow(inv, pair, conn, { writer, restarting }, known), actions: [] };
    });
    for (const plan of planned) if (plan) plans.set(plan.pair, plan);
  } finally {
    await conn.closeMysql();
  }
  return plans;
}

/**
 * Facts of one node (one round trip) and the plan of its files. Checks what would make any change
 * unsafe: a host whose `uname -n` is not the node's name, or that lacks a required package.
 */
export async function planNode(inv: Inventory, ssh: SshConnection, pair: PairSpec, node: NodeSpec): Promise<{ facts: HostFacts; plan: HostPlan }> {
  const required = [...REQUIRED_PACKAGES[inv.mysql.flavor], ...(pair.loadBalancers ? AGENT_PACKAGES : [])];
  // haresources keeps naming the writer the last swap recorded there, not the inventory's preferred node.
  return planHostFiles(inv, ssh, node, required, ['agent'], (facts, firewallBoot) =>
    desiredFiles(inv, pair, node, { writer: recordedWriter(pair, facts?.files.get(HARESOURCES_PATH)?.content), tls: inv.tlsMaterial?.get(node.name), ...(firewallBoot && { firewallBoot }) }),
  );
}

/** A load balancer's facts and the plan of its files (loadBalancerFiles). */
export function planLoadBalancer(inv: Inventory, ssh: SshConnection, pair: PairSpec, host: HostSpec): Promise<{ facts: HostFacts; plan: HostPlan }> {
  return planHostFiles(inv, ssh, host, LOAD_BALANCER_PACKAGES, ['heartbeat', 'haproxy'], (_facts, firewallBoot) => loadBalancerFiles(inv, pair, host, firewallBoot && { firewallBoot }));
}

/**
 * One round trip for the facts of any host duet manages (a database node, a load balancer), its
 * name and packages checked, and the plan of the files `render` gives (called without facts first,
 * for the paths to read, with every firewall path), with the services to repair where what runs
 * differs. With firewall.manage, the way the rules are loaded at boot is chosen from the facts.
 */
async function planHostFiles(
  inv: Inventory,
  ssh: SshConnection,
  host: HostSpec,
  required: string[][],
  /** The daemons this kind of host keeps running (daemonRepairs). */
  daemons: Parameters<typeof daemonRepairs>[2],
  render: (facts: HostFacts | undefined, firewallBoot: FirewallBoot | undefined) => DesiredFile[],
): Promise<{ facts: HostFacts; plan: HostPlan }> {
  const paths = [...new Set([...render(undefined, undefined).map((f) => f.path), ...(inv.firewall.manage ? FIREWALL_PATHS : [])])];
  const result = await ssh.run(factsScript(paths, PACKAGE_QUERY, { firewall: inv.firewall.manage }));
  const facts = parseFacts(result.stdout);
  if (facts.hostname !== host.name) {
    throw new HostStateError(`uname -n says ${JSON.stringify(facts.hostname)}, but the inventory calls this node ${host.name}`, {
      host: host.name,
      hint: 'Heartbeat identifies nodes by uname -n: set the host name on the host, or the node name in the inventory',
    });
  }
  const missing = required.filter((alternatives) => !alternatives.some((p) => facts.packages.has(p)));
  if (missing.length > 0) {
    const names = missing.map((alternatives) => alternatives[0]!);
    throw new HostStateError(`package(s) not installed: ${names.join(', ')}`, {
      host: host.name,
      hint: `install them first, e.g. apt-get install --no-install-recommends ${names.join(' ')}`,
    });
  }
  const firewallBoot = inv.firewall.manage ? firewallOf(host, facts) : undefined;
  const desired = render(facts, firewallBoot?.boot);
  const repairs = [...(firewallBoot ? firewallRepairs(desired, facts, firewallBoot) : []), ...daemonRepairs(desired, facts.running, daemons)];
  const plan = planHost(host.name, desired, facts.files, inv.secrets, repairs);
  if (firewallBoot) plan.firewallBoot = firewallBoot;
  return { facts, plan };
}

/**
 * The way this host loads the rules at boot; a host with none, or whose kernel has IPv6 that
 * ip6tables cannot filter, is not safe to manage: stopped here, before any host is changed.
 */
function firewallOf(host: HostSpec, facts: HostFacts): FirewallBootChoice {
  if (facts.ipv6?.state === 'error') {
    throw new HostStateError(`the kernel has IPv6 but ip6tables does not work (${facts.ipv6.message}): IPv6 would reach every port`, {
      host: host.name,
      hint: 'make ip6tables work (modprobe ip6table_filter, or the nf_tables modules), or boot the host with ipv6.disable=1 if it needs no IPv6; or set firewall.manage: false',
    });
  }
  const choice = chooseFirewallBoot(facts);
  if (!choice) {
    throw new HostStateError('no way to load the firewall rules at boot: no iptables-persistent, no systemd, no ifupdown (/etc/network/interfaces)', {
      host: host.name,
      hint: NO_FIREWALL_BOOT_HINT,
    });
  }
  return choice;
}

/**
 * What runs differs from unchanged files: the rules in force (IPv4, and IPv6 while the kernel has
 * it) are not the rendered ones (verify's firewall check), or the way they are loaded at boot is
 * not switched on.
 */
function firewallRepairs(desired: DesiredFile[], facts: HostFacts, choice: FirewallBootChoice): Repair[] {
  const v4 = desired.find((f) => f.check === 'iptables-restore');
  const v6 = desired.find((f) => f.check === 'ip6tables-restore');
  const reasons = [
    ...(v4 && facts.firewallRules !== undefined ? firewallReloadReasons(v4.content, facts.firewallRules).map((r) => `rules in force: ${r}`) : []),
    ...(v6 && facts.ipv6?.state === 'on' ? firewallReloadReasons(v6.content, facts.ipv6.rules).map((r) => `IPv6 rules in force: ${r}`) : []),
    ...(firewallBootEnabled(choice.boot, facts) ? [] : [`${describeFirewallBoot(choice.boot)} is not enabled at boot`]),
    ...choice.leftovers.map((path) => `${path} is left from another way of loading the rules at boot (the firewall action removes it)`),
  ];
  return [{ service: 'firewall', reasons }];
}

async function gatherHost<H extends HostSpec>(pool: HostPool, pair: PairSpec, node: H, plan: (ssh: SshConnection) => Promise<{ facts: HostFacts; plan: HostPlan }>): Promise<Work<H>> {
  const planned = await plan(await pool.get(node));
  const changes = changedFiles(planned.plan);
  return {
    pair,
    node,
    ...planned,
    report: {
      host: node.name,
      pair: pair.name,
      status: 'unchanged',
      changes: changes.map((c) => ({ path: c.file.path, action: c.action, reasons: c.reasons, diff: c.diff })),
      repairs: planned.plan.repairs.map((r) => ({ service: r.service, reasons: r.reasons })),
      services: planned.plan.services,
      ...(planned.plan.firewallBoot && {
        firewall: {
          boot: planned.plan.firewallBoot.boot,
          loadedBy: describeFirewallBoot(planned.plan.firewallBoot.boot),
          reason: planned.plan.firewallBoot.reason,
          ipv6: planned.facts.ipv6?.state === 'off' ? ('off' as const) : ('on' as const),
        },
      }),
    },
  };
}

/**
 * Applies hosts' plans in waves: the waves one after the other, the hosts of a wave at once. After a
 * failure the later waves are left as they were. False when a host failed.
 */
async function applyInWaves<H extends HostSpec>(inv: Inventory, pool: HostPool, waves: Array<Array<Work<H>>>, opts: ProvisionOptions, onFailure: (host: Work<H>) => Promise<void>): Promise<boolean> {
  for (const [i, wave] of waves.entries()) {
    const failed = (await Promise.all(wave.map((host) => applyHost(inv, pool, host, opts)))).filter((h) => h !== undefined);
    if (failed.length === 0) continue;
    for (const rest of waves.slice(i + 1).flat()) rest.report.status = 'not touched';
    for (const host of failed) await onFailure(host);
    return false;
  }
  return true;
}

/** One host's plan; the host when it failed (its report says why). */
async function applyHost<H extends HostSpec>(inv: Inventory, pool: HostPool, host: Work<H>, opts: ProvisionOptions): Promise<Work<H> | undefined> {
  if (!hostHasWork(host.plan)) return undefined;
  opts.log(`${host.node.name}: applying ${changedFiles(host.plan).length} file change(s)${host.plan.repairs.length ? ` and ${host.plan.repairs.map((r) => r.service).join(', ')} repair(s)` : ''}`);
  try {
    const ssh = await pool.get(host.node);
    const result = await applyHostPlan(host.plan, { ssh, facts: host.facts, flavor: inv.mysql.flavor, log: opts.log });
    host.report.status = 'changed';
    host.report.services = result.servicesRun;
    return undefined;
  } catch (err) {
    host.report.status = 'failed';
    host.report.error = err instanceof Error ? err.message : String(err);
    opts.log(`${host.node.name}: FAILED: ${host.report.error.split('\n')[0]}`);
    return host;
  }
}

async function provisionLoadBalancers(inv: Inventory, pool: HostPool, pair: PairSpec, hosts: LoadBalancerWork[], writer: string | undefined, opts: ProvisionOptions): Promise<TierConvergence | undefined> {
  const vip = pair.loadBalancers!.vip.address;
  const ordered = [...hosts].sort((a, b) => Number(holdsAddress(a.facts, vip)) - Number(holdsAddress(b.facts, vip)));
  if (!(await applyInWaves(inv, pool, ordered.map((h) => [h]), opts, async () => undefined))) return undefined;
  if (hosts.length < 2) {
    opts.log(`${pair.name}: --limit selected one load balancer; the tier's floating IP was not checked`);
    return undefined;
  }
  return convergeLoadBalancers(pair, { pool, facts: new Map(hosts.map((h) => [h.node.name, h.facts])), writer, log: opts.log });
}
function holdsAddress(facts: HostFacts, address: string): boolean {
  return facts.addresses.some((a) => a.address === address);
}

/**
 * One pair: the node that is not the writer first, so a configuration the server rejects is found
 * (and rolled back) there before the writer is touched; never both servers of a serving pair down at
 * once (a pair being set up: both nodes at once, applyWaves). Then the pair-wide state: users,
 * replication, roles and Heartbeat.
 */
async function provisionPair(inv: Inventory, pool: HostPool, pair: PairSpec, hosts: HostWork[], plan: PairConvergence | undefined, opts: ProvisionOptions): Promise<PairConvergence | undefined> {
  // A server that provision restarts must not look like a failure to duet's monitor (which would
  // hand the writer role on): the monitor takes no action on these hosts until provision is done.
  const changing = hosts.some((h) => hostHasWork(h.plan));
  if (changing) await Promise.all(hosts.map(async (h) => (await pool.get(h.node)).run(maintenanceCommand(MAINTENANCE_SECONDS))));
  try {
    return await applyAndConverge(inv, pool, pair, hosts, plan, opts);
  } finally {
    if (changing) await Promise.all(hosts.map(async (h) => (await pool.get(h.node)).run(maintenanceCommand(0)).catch(() => undefined)));
  }
}

/** At most this long a provision keeps the monitor from acting (should it die before it ends the window). */
const MAINTENANCE_SECONDS = 600;

async function applyAndConverge(inv: Inventory, pool: HostPool, pair: PairSpec, hosts: HostWork[], plan: PairConvergence | undefined, opts: ProvisionOptions): Promise<PairConvergence | undefined> {
  const writerName = plan?.writer ?? currentWriter(pair, hosts);
  const waves = applyWaves(
    hosts.map((h) => ({ name: h.node.name, holdsVip: holdsAddress(h.facts, pair.vip.address), heartbeatRunning: h.facts.running.heartbeat, host: h })),
    writerName,
  ).map((wave) => wave.map((n) => n.host));
  if (waves.length === 1 && waves[0]!.length > 1 && waves[0]!.some((h) => hostHasWork(h.plan))) {
    opts.log(`${pair.name}: neither node holds the floating IP or runs Heartbeat: both nodes' files at once`);
  }
  const applied = await applyInWaves(inv, pool, waves, opts, async (host) => {
    if (host.node.name === writerName) await keepWriterWritable(pool, pair, host.node, opts.log);
  });
  if (!applied) return undefined;
  if (hosts.length < 2 || !plan) {
    opts.log(`${pair.name}: --limit selected one node; replication and roles were not checked`);
    return undefined;
  }
  // Nothing planned and no file changed: the pair is as desired, and nothing is read twice.
  if (plan.planned.length === 0 && hosts.every((h) => !hostHasWork(h.plan))) return plan;
  const byName = new Map(hosts.map((h) => [h.node.name, h.facts]));
  return convergePair(inv, pair, { pool, writer: writerName, facts: byName, log: opts.log }, plan.planned);
}

/**
 * After a failed apply on the writer, its server may have been restarted (and so be read-only, as
 * my.cnf says) with the previous files: make it writable again, unless its peer is writable.
 */
async function keepWriterWritable(pool: HostPool, pair: PairSpec, writer: NodeSpec, log: (line: string) => void): Promise<void> {
  const conn = new NodeConnections(pool);
  try {
    const [own, peer] = [await readInstanceState(await conn.mysql(writer)), await readInstanceState(await conn.mysql(peerOf(pair, writer)))];
    if (own.readOnly && peer.readOnly) {
      await setReadOnly(await conn.mysql(writer), false);
      log(`${writer.name}: writable again (it is the writer)`);
    }
  } catch (err) {
    log(`${writer.name}: could not check that it is still writable: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await conn.closeMysql();
  }
}

/**
 * The writer is the node holding the floating IP; on a pair where none holds it, the writer the hosts'
 * haresources record (a swap's choice), else the preferred node.
 */
function currentWriter(pair: PairSpec, hosts: HostWork[]): string {
  const holders = hosts.filter((h) => holdsAddress(h.facts, pair.vip.address));
  if (holders.length === 1) return holders[0]!.node.name;
  const recorded = new Set(hosts.map((h) => recordedWriter(pair, h.facts.files.get(HARESOURCES_PATH)?.content)).filter((w) => w !== undefined));
  if (recorded.size === 1) return [...recorded][0]!;
  return (pair.nodes.find((n) => n.preferred) ?? pair.nodes[0]).name;
}

function summarize(report: ProvisionReport): ProvisionReport {
  const count = (s: HostStatus) => report.hosts.filter((h) => h.status === s).length;
  const pairChanges = report.pairs.reduce((n, p) => n + (report.dryRun ? p.planned.length : p.actions.length), 0) + report.loadBalancers.reduce((n, t) => n + t.actions.length, 0);
  // TLS actions change this machine's folder only; the hosts' new files count as their changes.
  report.summary = {
    changed: count('changed') + count('planned') + pairChanges,
    failed: count('failed') + [...report.pairs, ...report.loadBalancers].filter((p) => p.error).length,
    unchanged: count('unchanged'),
  };
  return report;
}

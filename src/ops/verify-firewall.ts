// Is the firewall the inventory renders the one in force, and the one a boot would load? The
// rendered rules files against the kernel's live rules (`iptables -S`, `ip6tables -S`), the way the
// host loads them at boot and its files, plus what a probe from the peer saw. Pure.
import type { HostSpec, NodeSpec, PairSpec } from '../inventory/model.ts';
import { MYSQL_PORT } from '../inventory/model.ts';
import { canonicalCidr } from '../inventory/net.ts';
import type { HostFacts } from '../plan/facts.ts';
import { firewallBootEnabled, NO_FIREWALL_BOOT_HINT, type FirewallBootChoice } from '../plan/firewall-boot.ts';
import { planFile } from '../plan/plan.ts';
import type { DesiredFile } from '../render/desired.ts';
import { describeFirewallBoot, KERNEL_IPV6_MARKER } from '../render/firewall-boot.ts';
import type { PortAnswer } from './pair-state.ts';
import type { Finding } from './verify-checks.ts';

export interface RenderedRule {
  /** The rule as `iptables -S` prints it (normalized). */
  rule: string;
  /** The comment above it in the rendered file, e.g. "Replication from the peer (db2)." */
  purpose: string | undefined;
}

export interface FirewallComparison {
  /** Built-in chains whose live policy is not the rendered one. */
  policies: Array<{ chain: string; live: string | undefined; rendered: string }>;
  /** Rendered rules that are not loaded. */
  missing: RenderedRule[];
  /** Loaded rules (and chains) that the rendered file does not have. */
  extra: string[];
}

/**
 * One rule in the form `iptables -S` (or `ip6tables -S`) prints: an address in its canonical form
 * with its prefix length (a bare one gets /32 or /128, host bits cleared), 0.0.0.0/0 and ::/0
 * implied, and comma lists compared as sets (the kernel prints --ctstate ESTABLISHED,RELATED the
 * other way).
 */
export function normalizeRule(line: string): string {
  const tokens = line.trim().split(/\s+/);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const value = tokens[i + 1];
    if ((token === '-s' || token === '-d') && value !== undefined) {
      i++;
      if (value === '0.0.0.0/0' || value === '::/0') continue;
      out.push(token, canonicalCidr(value) ?? value);
    } else {
      out.push(token.includes(',') ? token.split(',').sort().join(',') : token);
    }
  }
  return out.join(' ');
}

/** The filter table of an iptables-restore file: policies and rules, each rule with its comment. */
export function parseRenderedRules(text: string): { policies: Map<string, string>; rules: RenderedRule[] } {
  const policies = new Map<string, string>();
  const rules: RenderedRule[] = [];
  let inFilter = false;
  let purpose: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '*filter') inFilter = true;
    else if (line === 'COMMIT') inFilter = false;
    else if (!inFilter) continue;
    else if (line.startsWith('#')) purpose = line.replace(/^#\s*/, '');
    else if (line.startsWith(':')) {
      const [chain, policy] = line.slice(1).split(/\s+/);
      if (chain && policy && policy !== '-') policies.set(chain, policy);
    } else if (line.startsWith('-A ')) rules.push({ rule: normalizeRule(line), purpose });
  }
  return { policies, rules };
}

/** Compares the rendered rules with `iptables -S` output (the filter table). */
export function compareFirewall(renderedRules: string, iptablesS: string): FirewallComparison {
  const rendered = parseRenderedRules(renderedRules);
  const livePolicies = new Map<string, string>();
  const liveRules: string[] = [];
  for (const line of iptablesS.split('\n').map((l) => l.trim())) {
    const [kind, chain, policy] = line.split(/\s+/);
    if (kind === '-P' && chain && policy) livePolicies.set(chain, policy);
    else if (kind === '-A' || kind === '-N') liveRules.push(normalizeRule(line));
  }
  const renderedSet = new Set(rendered.rules.map((r) => r.rule));
  const liveSet = new Set(liveRules);
  return {
    policies: [...rendered.policies]
      .filter(([chain, policy]) => livePolicies.get(chain) !== policy)
      .map(([chain, policy]) => ({ chain, live: livePolicies.get(chain), rendered: policy })),
    missing: rendered.rules.filter((r) => !liveSet.has(r.rule)),
    extra: liveRules.filter((r) => !renderedSet.has(r)),
  };
}

export interface FirewallDifference {
  /** fail: the rules in force let in what the inventory does not, or miss what it grants. */
  status: 'fail' | 'warn';
  message: string;
  /** A loaded rule the rendered file does not have (not a missing one or a policy). */
  extra: boolean;
}

/**
 * Every difference of a comparison, judged: a policy that differs, a rendered rule not loaded and an
 * extra ACCEPT on INPUT fail; other extra rules (another tool's chains) only warn. verify reports
 * them; provision reloads the rules when one fails (firewallReloadReasons).
 */
export function firewallDifferences(comparison: FirewallComparison): FirewallDifference[] {
  const out: FirewallDifference[] = [];
  for (const p of comparison.policies) {
    out.push({ status: 'fail', message: `the ${p.chain} policy is ${p.live ?? 'missing'}, the rendered rules say ${p.rendered}`, extra: false });
  }
  for (const r of comparison.missing) {
    out.push({ status: 'fail', message: `rule not loaded: ${r.rule}${r.purpose ? ` (${r.purpose.replace(/\.$/, '')})` : ''}`, extra: false });
  }
  for (const rule of comparison.extra) {
    const opens = /^-A INPUT .*-j ACCEPT$/.test(rule);
    out.push({ status: opens ? 'fail' : 'warn', message: `rule not in the inventory: ${rule}${opens ? ' (it may let in what the inventory does not allow)' : ''}`, extra: true });
  }
  return out;
}

/**
 * Why the rendered rules must be loaded again, when verify would fail the rules in force; [] when
 * they are fine (extra rules that let nothing in are left to the tool that added them).
 */
export function firewallReloadReasons(renderedRules: string, iptablesS: string): string[] {
  const failing = firewallDifferences(compareFirewall(renderedRules, iptablesS)).filter((d) => d.status === 'fail');
  if (failing.length <= 3) return failing.map((d) => d.message);
  return [...failing.slice(0, 2).map((d) => d.message), `and ${failing.length - 2} more difference(s)`];
}

/** The IPv6 rules in force against the rendered ones, or why there are none (see Ipv6Facts). */
export type Ipv6Comparison = { state: 'on'; comparison: FirewallComparison } | { state: 'off' } | { state: 'error'; message: string };

/** Would a boot load the rendered rules: the way chosen, whether it is switched on, the firewall files that differ. */
export interface BootCheck {
  choice: FirewallBootChoice | undefined;
  enabled: boolean;
  /** Firewall files (rules, hook or unit) not as rendered on the host, with why. */
  differing: Array<{ path: string; reasons: string[] }>;
}

export interface FirewallState {
  v4: FirewallComparison;
  v6: Ipv6Comparison;
  boot: BootCheck;
  /** Where the rendered rules are, for the hints. */
  paths: { v4: string; v6: string };
}

/**
 * The firewall of a host from its facts (read with the firewall sections) and its desired files
 * (rendered for `choice`, or the default way when there is none).
 */
export function firewallState(desired: DesiredFile[], facts: HostFacts, choice: FirewallBootChoice | undefined): FirewallState {
  const v4 = desired.find((f) => f.check === 'iptables-restore');
  const v6 = desired.find((f) => f.check === 'ip6tables-restore');
  if (!v4 || !v6) throw new Error('firewallState: the desired files have no rules files');
  const ipv6 = facts.ipv6 ?? { state: 'error', message: 'not read' };
  const differing = desired
    .filter((f) => f.service === 'firewall')
    .map((f) => planFile(f, facts.files.get(f.path), []))
    .filter((c) => c.action !== 'unchanged')
    .map((c) => ({ path: c.file.path, reasons: c.reasons }));
  return {
    v4: compareFirewall(v4.content, facts.firewallRules ?? ''),
    v6: ipv6.state === 'on' ? { state: 'on', comparison: compareFirewall(v6.content, ipv6.rules) } : ipv6,
    boot: { choice, enabled: choice !== undefined && firewallBootEnabled(choice.boot, facts), differing },
    paths: { v4: v4.path, v6: v6.path },
  };
}

/**
 * The firewall of `node`: its live rules are the rendered ones, IPv4 and IPv6 (so the application
 * hosts reach MySQL on the floating IP only and nothing else reaches Heartbeat), a boot would load
 * them, and the peer's replication connections get through (`fromPeer`: what the peer saw when it
 * opened one). `state` undefined: duet does not manage the firewall.
 */
export function checkFirewall(pair: PairSpec, node: NodeSpec, peer: NodeSpec, state: FirewallState | undefined, fromPeer: PortAnswer): Finding[] {
  const out: Array<Omit<Finding, 'check' | 'pair' | 'host'>> = [];
  if (state) out.push(...ruleFindings(node, state), ...bootFindings(node, state));
  const target = `${node.name}:${MYSQL_PORT}`;
  if (fromPeer.kind === 'no answer') {
    out.push({
      status: 'fail',
      message: `${peer.name} cannot open a connection to ${target} (${node.address}): ${fromPeer.reason}`,
      hint: `replication from ${node.name} to ${peer.name} needs it: the rule for ${peer.name} (${peer.address}) on ${node.name}, and mysqld listening on all addresses`,
    });
  } else if (fromPeer.kind === 'error') {
    out.push({
      status: 'fail',
      message: `${target} refuses ${peer.name}: error ${fromPeer.code} (${fromPeer.message})`,
      hint: `${node.name} has no account for ${peer.name}'s address ${peer.address}; run provision, which creates the replication account`,
    });
  }
  if (out.length === 0) {
    const rules = state ? rulesOk(state) : 'not managed by duet (firewall.manage: false)';
    out.push({ status: 'ok', message: `${rules}; ${peer.name} reaches ${target}` });
  }
  return out.map((d) => ({ check: 'firewall', pair: pair.name, host: node.name, ...d }));
}

/** The firewall of a host no peer probes (a load balancer): the rules in force and the boot only. */
export function checkHostFirewall(pair: PairSpec, host: HostSpec, state: FirewallState): Finding[] {
  const out = [...ruleFindings(host, state), ...bootFindings(host, state)];
  if (out.length === 0) out.push({ status: 'ok', message: rulesOk(state) });
  return out.map((d) => ({ check: 'firewall', pair: pair.name, host: host.name, ...d }));
}

function rulesOk(state: FirewallState): string {
  const tables = state.v6.state === 'off' ? `IPv4; IPv6 is off in the kernel, no ${KERNEL_IPV6_MARKER}` : 'IPv4 and IPv6';
  return `the rules in force are the rendered ones (${tables}), and a boot loads them (${describeFirewallBoot(state.boot.choice!.boot)})`;
}

/** The differences of the rules in force, IPv4 then IPv6 (prefixed "IPv6: "), each with its fix. */
function ruleFindings(node: HostSpec, state: FirewallState): Array<Omit<Finding, 'check' | 'pair' | 'host'>> {
  const out: Array<Omit<Finding, 'check' | 'pair' | 'host'>> = [];
  const judged = (comparison: FirewallComparison, tool: string, path: string, prefix: string) => {
    const reload = `${tool} < ${path} on ${node.name} (or run provision), and find what changed the rules (another firewall tool, a hand edit)`;
    for (const d of firewallDifferences(comparison)) {
      const hint = d.extra ? `firewall.ssh_from and firewall.mysql_from are where access is granted; ${reload}` : reload;
      out.push({ status: d.status, message: `${prefix}${d.message}`, hint });
    }
  };
  judged(state.v4, 'iptables-restore', state.paths.v4, '');
  if (state.v6.state === 'on') judged(state.v6.comparison, 'ip6tables-restore', state.paths.v6, 'IPv6: ');
  else if (state.v6.state === 'error') {
    out.push({
      status: 'fail',
      message: `the kernel has IPv6 but ip6tables does not work (${state.v6.message}): nothing filters IPv6`,
      hint: `make ip6tables work on ${node.name} (modprobe ip6table_filter), or boot it with ipv6.disable=1 if it needs no IPv6; then run provision`,
    });
  }
  return out;
}

/** Whether a boot would load the rendered rules: a way to load them, switched on, with the rendered files. */
function bootFindings(node: HostSpec, state: FirewallState): Array<Omit<Finding, 'check' | 'pair' | 'host'>> {
  const { choice, enabled, differing } = state.boot;
  if (!choice) {
    return [{ status: 'fail', message: 'nothing loads the rules at boot (no iptables-persistent, no systemd, no ifupdown): after a reboot the host would be open', hint: NO_FIREWALL_BOOT_HINT }];
  }
  const way = describeFirewallBoot(choice.boot);
  return [
    ...(enabled ? [] : [{ status: 'fail' as const, message: `${way} is not enabled: a boot would not load the rules`, hint: `run provision, which enables it (${choice.reason})` }]),
    ...choice.leftovers.map((path) => ({
      status: 'fail' as const,
      message: `${path} is left from another way of loading the rules at boot: a boot would run it too and load other rules than ${way}`,
      hint: 'run provision, which removes it',
    })),
    ...differing.map((d) => ({
      status: 'fail' as const,
      message: `a boot would not load the rendered rules: ${d.path} is not as rendered (${d.reasons.join('; ')}), and ${way} loads it`,
      hint: `run provision, which writes the rendered files (see drift for the difference)`,
    })),
  ];
}

// Is the firewall the inventory renders the one in force? The rendered rules file against the
// kernel's live rules (`iptables -S`), plus what a probe from the peer saw. Pure.
import type { NodeSpec, PairSpec } from '../inventory/model.ts';
import { MYSQL_PORT } from '../inventory/model.ts';
import { IPTABLES_RULES_PATH } from '../render/desired.ts';
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
 * One rule in the form `iptables -S` prints: a bare address gets its /32, 0.0.0.0/0 is implied, and
 * comma lists are compared as sets (the kernel prints --ctstate ESTABLISHED,RELATED the other way).
 */
export function normalizeRule(line: string): string {
  const tokens = line.trim().split(/\s+/);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const value = tokens[i + 1];
    if ((token === '-s' || token === '-d') && value !== undefined) {
      i++;
      if (value === '0.0.0.0/0') continue;
      out.push(token, value.includes('/') ? value : `${value}/32`);
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

/**
 * The firewall of `node`: its live rules are the rendered ones (so the application hosts reach MySQL on
 * the floating IP only and nothing else reaches Heartbeat), and the peer's replication connections
 * get through (`fromPeer`: what the peer saw when it opened one).
 */
export function checkFirewall(pair: PairSpec, node: NodeSpec, peer: NodeSpec, comparison: FirewallComparison | undefined, fromPeer: PortAnswer): Finding[] {
  const out: Array<Omit<Finding, 'check' | 'pair' | 'host'>> = [];
  const reload = `iptables-restore < ${IPTABLES_RULES_PATH} on ${node.name} (or run provision), and find what changed the rules (another firewall tool, a hand edit)`;
  for (const d of comparison ? firewallDifferences(comparison) : []) {
    const hint = d.extra ? `firewall.ssh_from and firewall.mysql_from are where access is granted; ${reload}` : reload;
    out.push({ status: d.status, message: d.message, hint });
  }
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
    const rules = comparison ? 'the rules in force are the rendered ones' : 'not managed by duet (firewall.manage: false)';
    out.push({ status: 'ok', message: `${rules}; ${peer.name} reaches ${target}` });
  }
  return out.map((d) => ({ check: 'firewall', pair: pair.name, host: node.name, ...d }));
}

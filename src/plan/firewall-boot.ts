// Which way a host loads duet's firewall rules at boot, chosen from its facts. Pure.
import { FIREWALL_UNIT, IPTABLES_PERSISTENT_PACKAGE, NETFILTER_PERSISTENT, otherBootFiles, type FirewallBoot } from '../render/firewall-boot.ts';
import type { HostFacts } from './facts.ts';

export interface FirewallBootChoice {
  boot: FirewallBoot;
  /** Why this way, for the plan: "iptables-persistent is installed". */
  reason: string;
  /** duet's boot files of another way found on the host (otherBootFiles): the firewall action removes them. */
  leftovers: string[];
}

/**
 * Safe first, then simple. netfilter-persistent when iptables-persistent is installed: it loads
 * /etc/iptables/rules.v4 and rules.v6 at boot anyway, so any other way would race it with files duet
 * does not keep. Else on systemd duet's unit, ordered before network-pre.target whatever configures
 * the network. Else ifupdown's pre-up hook. Undefined when the host has none of them.
 */
export function chooseFirewallBoot(facts: Pick<HostFacts, 'initSystem' | 'packages' | 'firewallBoot' | 'files'>): FirewallBootChoice | undefined {
  const chosen = (boot: FirewallBoot, reason: string): FirewallBootChoice => ({ boot, reason, leftovers: otherBootFiles(boot).filter((p) => facts.files.get(p)?.exists) });
  if (facts.packages.has(IPTABLES_PERSISTENT_PACKAGE)) {
    return chosen('netfilter-persistent', `${IPTABLES_PERSISTENT_PACKAGE} is installed: ${NETFILTER_PERSISTENT} loads the rules at boot`);
  }
  if (facts.initSystem === 'systemd') {
    return chosen('systemd', `systemd runs the host and ${IPTABLES_PERSISTENT_PACKAGE} is not installed: duet's unit ${FIREWALL_UNIT} loads them`);
  }
  if (facts.firewallBoot?.ifupdown) {
    return chosen('ifupdown', 'no systemd, no iptables-persistent; ifupdown configures the network (/etc/network/interfaces): its pre-up hook loads them');
  }
  return undefined;
}

/** Whether the chosen way is switched on at boot (its files are compared separately, as files). */
export function firewallBootEnabled(boot: FirewallBoot, facts: Pick<HostFacts, 'firewallBoot'>): boolean {
  switch (boot) {
    case 'netfilter-persistent':
      return facts.firewallBoot?.netfilterPersistentEnabled ?? false;
    case 'systemd':
      return facts.firewallBoot?.unitEnabled ?? false;
    case 'ifupdown':
      // ifupdown runs every executable in if-pre-up.d: the hook's mode (0755) is part of its file.
      return true;
  }
}

/** What makes a host able to load the rules at boot, for the error when it has none. */
export const NO_FIREWALL_BOOT_HINT = `install ${IPTABLES_PERSISTENT_PACKAGE} (apt-get install ${IPTABLES_PERSISTENT_PACKAGE}: its ${NETFILTER_PERSISTENT} loads the rules at boot), or set firewall.manage: false and keep the rules yourself`;

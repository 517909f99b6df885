// How a host loads duet's firewall rules at boot, and where the rules files live for each way. The
// plan picks one from the host's facts (chooseFirewallBoot, src/plan/firewall-boot.ts); render
// writes that way's files. Pure.

/**
 * netfilter-persistent: Debian's own service (package iptables-persistent) loads
 * /etc/iptables/rules.v4 and rules.v6 early at boot; duet writes those files and enables it.
 * systemd: duet's unit (duet-firewall.service) loads duet's files before network-pre.target.
 * ifupdown: duet's hook in /etc/network/if-pre-up.d loads them before an interface comes up.
 */
export type FirewallBoot = 'netfilter-persistent' | 'systemd' | 'ifupdown';

export const FIREWALL_BOOTS: readonly FirewallBoot[] = ['netfilter-persistent', 'systemd', 'ifupdown'];

/** The rules files duet writes without netfilter-persistent (iptables-restore format). */
export const IPTABLES_RULES_PATH = '/etc/iptables.rules';
export const IP6TABLES_RULES_PATH = '/etc/ip6tables.rules';
/** The files netfilter-persistent's plugins (15-ip4tables, 25-ip6tables) load. */
export const PERSISTENT_RULES_V4_PATH = '/etc/iptables/rules.v4';
export const PERSISTENT_RULES_V6_PATH = '/etc/iptables/rules.v6';
export const IFUPDOWN_HOOK_PATH = '/etc/network/if-pre-up.d/duet-iptables';
export const FIREWALL_UNIT = 'duet-firewall.service';
export const FIREWALL_UNIT_PATH = `/etc/systemd/system/${FIREWALL_UNIT}`;
export const NETFILTER_PERSISTENT = 'netfilter-persistent';
/** The package that gives netfilter-persistent its iptables and ip6tables plugins. */
export const IPTABLES_PERSISTENT_PACKAGE = 'iptables-persistent';
/** Present while the kernel has IPv6 (absent when booted with ipv6.disable=1). */
export const KERNEL_IPV6_MARKER = '/proc/net/if_inet6';

export interface RulesPaths {
  v4: string;
  v6: string;
}

export function rulesPaths(boot: FirewallBoot): RulesPaths {
  return boot === 'netfilter-persistent'
    ? { v4: PERSISTENT_RULES_V4_PATH, v6: PERSISTENT_RULES_V6_PATH }
    : { v4: IPTABLES_RULES_PATH, v6: IP6TABLES_RULES_PATH };
}

/** The file besides the rules that makes a boot load them, if the way has one of duet's own. */
export function bootFilePath(boot: FirewallBoot): string | undefined {
  return boot === 'systemd' ? FIREWALL_UNIT_PATH : boot === 'ifupdown' ? IFUPDOWN_HOOK_PATH : undefined;
}

/**
 * duet's own boot files of the other ways (the hook, the unit): left on a host that changed ways
 * (iptables-persistent installed later), a boot would run them too and load older rules files.
 */
export function otherBootFiles(boot: FirewallBoot): string[] {
  return [IFUPDOWN_HOOK_PATH, FIREWALL_UNIT_PATH].filter((p) => p !== bootFilePath(boot));
}

/** Every path a firewall file of any way may have: the facts read them all before the way is chosen. */
export const FIREWALL_PATHS: readonly string[] = [
  ...new Set(FIREWALL_BOOTS.flatMap((b) => [rulesPaths(b).v4, rulesPaths(b).v6, ...(bootFilePath(b) ? [bootFilePath(b)!] : [])])),
];

/** "the ifupdown hook /etc/network/if-pre-up.d/duet-iptables": what loads the rules at boot, in a sentence. */
export function describeFirewallBoot(boot: FirewallBoot): string {
  switch (boot) {
    case 'netfilter-persistent':
      return `${NETFILTER_PERSISTENT} (${PERSISTENT_RULES_V4_PATH}, ${PERSISTENT_RULES_V6_PATH})`;
    case 'systemd':
      return `the systemd unit ${FIREWALL_UNIT}`;
    case 'ifupdown':
      return `the ifupdown hook ${IFUPDOWN_HOOK_PATH}`;
  }
}

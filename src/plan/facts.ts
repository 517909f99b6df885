// What a host is like now, gathered in one SSH round trip by a small shell script, and parsed here.
// Both the script text and the parser are pure, so they are unit-tested without a host.
import { AGENT_PID_PATH, AGENT_SERVICE } from '../render/desired.ts';
import { FIREWALL_UNIT, IFUPDOWN_HOOK_PATH, KERNEL_IPV6_MARKER, NETFILTER_PERSISTENT } from '../render/firewall-boot.ts';
import { shellQuote } from '../transport/shell.ts';

export type InitSystem = 'systemd' | 'sysvinit';

export interface FileFact {
  path: string;
  exists: boolean;
  /** Octal permission bits, e.g. 0o644; undefined when missing. */
  mode?: number;
  owner?: string;
  group?: string;
  content?: string;
}

export interface HostFacts {
  hostname: string;
  initSystem: InitSystem;
  /** Installed package names among the ones asked about. */
  packages: Set<string>;
  /** Global IPv4 addresses on the host ("198.18.0.11/24 eth0"), to find the floating IP. */
  addresses: Array<{ address: string; prefixLength: number; device: string }>;
  /** Whether each service's daemon runs now (haproxy on load balancers, duet's writer agent on database nodes). */
  running: { mysql: boolean; heartbeat: boolean; haproxy: boolean; agent: boolean };
  files: Map<string, FileFact>;
  /** The filter table in force (`iptables -S`), when asked for; undefined otherwise. */
  firewallRules?: string;
  /** The IPv6 filter table in force (`ip6tables -S`), or why there is none, when asked for. */
  ipv6?: Ipv6Facts;
  /** What could load the firewall rules at boot, when asked for (see chooseFirewallBoot). */
  firewallBoot?: FirewallBootFacts;
}

/**
 * on: the kernel has IPv6 and `ip6tables -S` printed its rules. off: no IPv6 in the kernel (booted
 * with ipv6.disable=1: no /proc/net/if_inet6), so no IPv6 packet can come in. error: the kernel has
 * IPv6 but ip6tables does not work (its last line of error), so nothing filters IPv6.
 */
export type Ipv6Facts = { state: 'on'; rules: string } | { state: 'off' } | { state: 'error'; message: string };

export interface FirewallBootFacts {
  /** ifupdown configures the network: /etc/network/interfaces and the if-pre-up.d folder are there. */
  ifupdown: boolean;
  /** netfilter-persistent is enabled at boot (systemd: is-enabled; otherwise an S link in rcS.d or rc2.d). */
  netfilterPersistentEnabled: boolean;
  /** duet's unit is enabled (systemd only). */
  unitEnabled: boolean;
}

/** Prints the filter table in force, as `iptables -S` does (what verify and provision compare). */
export const LIVE_RULES_COMMAND = 'iptables -S';
/** The IPv6 table in force, or `off` / `error` and the error's last line (parsed into Ipv6Facts). */
const LIVE_RULES6_COMMAND = `if [ ! -e ${KERNEL_IPV6_MARKER} ]; then echo off; elif out=$(ip6tables -S 2>&1); then echo on; printf '%s\\n' "$out"; else echo error; printf '%s\\n' "$out" | tail -n 1; fi`;
/** One line per way of loading the rules at boot the host has (parsed into FirewallBootFacts). */
const FIREWALL_BOOT_COMMAND = [
  `if [ -f /etc/network/interfaces ] && [ -d ${IFUPDOWN_HOOK_PATH.slice(0, IFUPDOWN_HOOK_PATH.lastIndexOf('/'))} ]; then echo ifupdown; fi`,
  `if [ -d /run/systemd/system ]; then`,
  `  if systemctl is-enabled -q ${NETFILTER_PERSISTENT}.service 2>/dev/null; then echo ${NETFILTER_PERSISTENT}; fi`,
  `  if systemctl is-enabled -q ${FIREWALL_UNIT} 2>/dev/null; then echo unit; fi`,
  'else',
  `  for link in /etc/rcS.d/S*${NETFILTER_PERSISTENT} /etc/rc2.d/S*${NETFILTER_PERSISTENT}; do if [ -e "$link" ]; then echo ${NETFILTER_PERSISTENT}; break; fi; done`,
  'fi',
].join('\n');

/** Asked about besides the required ones: with it installed, netfilter-persistent loads the rules at boot. */
export const OPTIONAL_PACKAGES = ['iptables-persistent'];

/** Packages duet needs on a database node, per flavor (any one of each group will do). */
export const REQUIRED_PACKAGES: Record<'mariadb' | 'mysql', string[][]> = {
  mariadb: [['mariadb-server'], ['heartbeat'], ['iptables']],
  mysql: [['mysql-server', 'mysql-community-server', 'percona-server-server'], ['heartbeat'], ['iptables']],
};
/** What a database node of a pair with load balancers needs besides: socat runs the writer agent. */
export const AGENT_PACKAGES: string[][] = [['socat']];
/** Packages duet needs on a load balancer (socat reads HAProxy's admin socket for status and verify). */
export const LOAD_BALANCER_PACKAGES: string[][] = [['haproxy'], ['heartbeat'], ['iptables'], ['socat']];

const MARK = '@@duet';

/**
 * The live sections: which daemons run and the host's global IPv4 addresses. Part of every facts
 * script, and read alone by probeScript (the one place both probes are written). Shell built-ins
 * where they do: a fleet's hosts run this on every command, and each process started costs more
 * than the reading (the daemons: one pass over /proc's command names, not a pidof each).
 */
const LIVE_SECTIONS = [
  `echo "${MARK} addresses"; ip -4 -o addr show scope global 2>/dev/null`,
  `echo "${MARK} running"; for f in /proc/[0-9]*/comm; do read -r c 2>/dev/null <"$f" || continue; case "$c" in mariadbd|mysqld|heartbeat|haproxy) echo "$c";; esac; done; ` +
    `if read -r pid 2>/dev/null <${AGENT_PID_PATH} && kill -0 "$pid" 2>/dev/null; then echo ${AGENT_SERVICE}; fi`,
];

/** Just the daemons and addresses (parse with parseFacts): what a pair's live state needs from the host. */
export function probeScript(): string {
  return ['export LC_ALL=C', ...LIVE_SECTIONS, `echo "${MARK} end"`].join('\n');
}

/**
 * A POSIX sh script printing every fact as marked sections. Paths are quoted; nothing is changed.
 * `firewall`: also the filter tables in force (IPv4 and IPv6) and what can load them at boot.
 */
export function factsScript(paths: string[], packages: string[], options: { firewall?: boolean } = {}): string {
  // The files that exist, in one tar archive (mode, owner and group in its headers): three processes
  // for all of them, not two per file. Their paths are listed too (tar drops the leading /).
  const fileLines =
    paths.length === 0
      ? []
      : [
          'set --',
          `for p in ${paths.map(shellQuote).join(' ')}; do if [ -e "$p" ]; then set -- "$@" "$p"; else echo "${MARK} nofile $p"; fi; done`,
          `echo "${MARK} present"; if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi`,
          `echo "${MARK} archive"; if [ $# -gt 0 ]; then tar --format=gnu --no-recursion --dereference --blocking-factor=1 -cf - -- "$@" 2>/dev/null | base64 -w0; fi; echo`,
        ];
  return [
    'export LC_ALL=C',
    `echo "${MARK} hostname"; if read -r h 2>/dev/null </proc/sys/kernel/hostname; then echo "$h"; else uname -n; fi`,
    `echo "${MARK} init"; if [ -d /run/systemd/system ]; then echo systemd; else echo sysvinit; fi`,
    // dpkg keeps a package's file list (info/NAME.list, or NAME:ARCH.list) from its unpacking to its
    // removal: a test of the file, not a dpkg-query that parses dpkg's whole status database.
    `echo "${MARK} packages"; for p in ${packages.map(shellQuote).join(' ')}; do for l in "/var/lib/dpkg/info/$p.list" "/var/lib/dpkg/info/$p":*.list; do if [ -e "$l" ]; then echo "$p"; break; fi; done; done`,
    ...LIVE_SECTIONS,
    ...(options.firewall
      ? [
          `echo "${MARK} iptables"; ${LIVE_RULES_COMMAND} 2>/dev/null`,
          `echo "${MARK} ip6tables"; ${LIVE_RULES6_COMMAND}`,
          `echo "${MARK} firewall-boot"\n${FIREWALL_BOOT_COMMAND}`,
        ]
      : []),
    ...fileLines,
    `echo "${MARK} end"`,
  ].join('\n');
}

/** Parses factsScript output. Throws on output it does not recognise (a bug, not a user error). */
export function parseFacts(output: string): HostFacts {
  const facts: HostFacts = {
    hostname: '',
    initSystem: 'sysvinit',
    packages: new Set(),
    addresses: [],
    running: { mysql: false, heartbeat: false, haproxy: false, agent: false },
    files: new Map(),
  };
  const sections = output.split(`${MARK} `).slice(1);
  let present: string[] = [];
  let ended = false;
  for (const section of sections) {
    const newline = section.indexOf('\n');
    const head = newline === -1 ? section : section.slice(0, newline);
    const lines = (newline === -1 ? '' : section.slice(newline + 1)).split('\n').filter((l) => l !== '');
    const [kind, ...rest] = head.split(' ');
    const arg = rest.join(' ');
    switch (kind) {
      case 'hostname':
        facts.hostname = lines[0] ?? '';
        break;
      case 'init':
        facts.initSystem = lines[0] === 'systemd' ? 'systemd' : 'sysvinit';
        break;
      case 'packages':
        for (const l of lines) facts.packages.add(l.trim());
        break;
      case 'addresses':
        // `ip -4 -o addr` lines: "2: eth0    inet 198.18.0.11/24 brd ... scope global eth0\ ...".
        for (const l of lines) {
          const [, device, family, cidr] = l.trim().split(/\s+/);
          if (family !== 'inet') continue;
          const [address, prefix] = (cidr ?? '').split('/');
          if (address && prefix && device) facts.addresses.push({ address, prefixLength: Number(prefix), device });
        }
        break;
      case 'running':
        facts.running.mysql = lines.some((l) => l === 'mariadbd' || l === 'mysqld');
        facts.running.heartbeat = lines.includes('heartbeat');
        facts.running.haproxy = lines.includes('haproxy');
        facts.running.agent = lines.includes(AGENT_SERVICE);
        break;
      case 'present':
        present = lines;
        break;
      case 'archive': {
        // Matched by name: a file removed between the test and tar is simply not in the archive.
        const byName = new Map(present.map((path) => [path.replace(/^\/+/, ''), path]));
        for (const entry of readTar(Buffer.from(lines[0] ?? '', 'base64'))) {
          const path = byName.get(entry.name);
          if (path === undefined) continue;
          facts.files.set(path, { path, exists: true, mode: entry.mode, ...(entry.owner ? { owner: entry.owner } : {}), ...(entry.group ? { group: entry.group } : {}), content: entry.content });
        }
        for (const path of present) if (!facts.files.has(path)) facts.files.set(path, { path, exists: false });
        break;
      }
      case 'iptables':
        facts.firewallRules = lines.join('\n');
        break;
      case 'ip6tables': {
        const [state, ...rest6] = lines;
        facts.ipv6 = state === 'on' ? { state, rules: rest6.join('\n') } : state === 'off' ? { state } : { state: 'error', message: rest6.join(' ') || 'ip6tables -S failed' };
        break;
      }
      case 'firewall-boot':
        facts.firewallBoot = { ifupdown: lines.includes('ifupdown'), netfilterPersistentEnabled: lines.includes(NETFILTER_PERSISTENT), unitEnabled: lines.includes('unit') };
        break;
      case 'nofile':
        facts.files.set(arg, { path: arg, exists: false });
        break;
      case 'end':
        ended = true;
        break;
      default:
        throw new Error(`unexpected facts section ${JSON.stringify(head)}`);
    }
  }
  if (!ended) throw new Error('facts output ended early');
  return facts;
}

interface TarEntry {
  name: string;
  mode: number;
  owner: string;
  group: string;
  content: string;
}

/**
 * The entries of a GNU tar archive (tar --format=gnu): 512-byte headers, each followed by its data
 * in 512-byte blocks; a name longer than 100 bytes comes first as an entry of type L.
 */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  const text = (block: Buffer, start: number, length: number) => {
    const field = block.subarray(start, start + length);
    const end = field.indexOf(0);
    return field.subarray(0, end === -1 ? length : end).toString('utf8');
  };
  const octal = (block: Buffer, start: number, length: number) => parseInt(text(block, start, length).trim() || '0', 8);
  let longName: string | undefined;
  for (let offset = 0; offset + 512 <= archive.length; ) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156]!);
    const data = archive.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = text(data, 0, data.length);
      continue;
    }
    const name = longName ?? text(header, 0, 100);
    longName = undefined;
    // Other extension headers (K: a long link name, x and g: pax) describe no file of their own.
    if (type === 'K' || type === 'x' || type === 'g') continue;
    const uid = octal(header, 108, 8);
    const gid = octal(header, 116, 8);
    entries.push({
      name,
      mode: octal(header, 100, 8),
      owner: text(header, 265, 32) || String(uid),
      group: text(header, 297, 32) || String(gid),
      content: data.toString('utf8'),
    });
  }
  return entries;
}

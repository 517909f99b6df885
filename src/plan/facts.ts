// What a host is like now, gathered in one SSH round trip by a small shell script, and parsed here.
// Both the script text and the parser are pure, so they are unit-tested without a host.
import { AGENT_PID_PATH, AGENT_SERVICE } from '../render/desired.ts';
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
}

/** Prints the filter table in force, as `iptables -S` does (what verify and provision compare). */
export const LIVE_RULES_COMMAND = 'iptables -S';

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
 * script, and read alone by probeScript (the one place both probes are written).
 */
const LIVE_SECTIONS = [
  `echo "${MARK} addresses"; ip -4 -o addr show scope global 2>/dev/null | awk '{print $4, $2}'`,
  `echo "${MARK} running"; for p in mariadbd mysqld heartbeat haproxy; do if pidof "$p" >/dev/null 2>&1; then echo "$p"; fi; done; ` +
    `if [ -r ${AGENT_PID_PATH} ] && kill -0 "$(cat ${AGENT_PID_PATH})" 2>/dev/null; then echo ${AGENT_SERVICE}; fi`,
];

/** Just the daemons and addresses (parse with parseFacts): what a pair's live state needs from the host. */
export function probeScript(): string {
  return ['export LC_ALL=C', ...LIVE_SECTIONS, `echo "${MARK} end"`].join('\n');
}

/**
 * A POSIX sh script printing every fact as marked sections. Paths are quoted; nothing is changed.
 * `firewall`: also the filter table in force.
 */
export function factsScript(paths: string[], packages: string[], options: { firewall?: boolean } = {}): string {
  const fileLines = paths.map(
    (p) =>
      `if [ -e ${shellQuote(p)} ]; then echo "${MARK} file ${p}"; stat -c '%a %U %G' ${shellQuote(p)}; base64 -w0 < ${shellQuote(p)}; echo; else echo "${MARK} nofile ${p}"; fi`,
  );
  return [
    'export LC_ALL=C',
    `echo "${MARK} hostname"; uname -n`,
    `echo "${MARK} init"; if [ -d /run/systemd/system ]; then echo systemd; else echo sysvinit; fi`,
    `echo "${MARK} packages"; dpkg-query -W -f='\${Package} \${db:Status-Status}\\n' ${packages.map(shellQuote).join(' ')} 2>/dev/null | awk '$2=="installed"{print $1}'`,
    ...LIVE_SECTIONS,
    ...(options.firewall ? [`echo "${MARK} iptables"; ${LIVE_RULES_COMMAND} 2>/dev/null`] : []),
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
        for (const l of lines) {
          const [cidr, device] = l.split(' ');
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
      case 'file': {
        const [mode, owner, group] = (lines[0] ?? '').split(' ');
        facts.files.set(arg, {
          path: arg,
          exists: true,
          mode: parseInt(mode ?? '', 8),
          ...(owner ? { owner } : {}),
          ...(group ? { group } : {}),
          content: Buffer.from(lines[1] ?? '', 'base64').toString('utf8'),
        });
        break;
      }
      case 'iptables':
        facts.firewallRules = lines.join('\n');
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

// Cross-field rules that catch what breaks pairs in real life. Pure: takes the shape-checked
// inventory and returns every problem found (not just the first), each with its field path.
import { MYSQL_PORT } from './model.ts';
import { cidrFamily, contains, isIpv4, isNetworkOrBroadcast, parseCidr, type Cidr } from './net.ts';
import type { RawInventory } from './schema.ts';

export type FieldPath = Array<string | number>;

export interface RuleViolation {
  path: FieldPath;
  message: string;
  hint?: string;
}

/** Options duet writes itself: setting them in mysql.settings would fight the rendered file. */
export const MANAGED_OPTIONS = new Map<string, string>([
  ['server_id', 'pairs[].nodes[].server_id'],
  ['report_host', 'pairs[].nodes[].name'],
  ['bind_address', 'nothing: duet binds 0.0.0.0 so the floating IP is reachable'],
  ['log_bin', 'nothing: duet sets it'],
  ['relay_log', 'nothing: duet sets it'],
  ['log_slave_updates', 'nothing: duet sets it'],
  ['log_replica_updates', 'nothing: duet sets it'],
  ['binlog_format', 'nothing: duet uses ROW'],
  ['sync_binlog', 'nothing: duet sets 1 (durable commits)'],
  ['innodb_flush_log_at_trx_commit', 'nothing: duet sets 1 (durable commits)'],
  ['slave_net_timeout', 'nothing: duet sets 10 s so a replica notices a dead source'],
  ['binlog_do_db', 'mysql.databases'],
  ['binlog_ignore_db', 'mysql.ignore_databases'],
  ['auto_increment_increment', 'mysql.auto_increment_increment'],
  ['auto_increment_offset', 'pairs[].nodes[].auto_increment_offset'],
  ['gtid_domain_id', 'pairs[].nodes[].gtid_domain_id'],
  ['expire_logs_days', 'mysql.expire_logs_days'],
  ['binlog_expire_logs_seconds', 'mysql.expire_logs_days'],
  ['max_binlog_size', 'mysql.max_binlog_size'],
  ['read_only', 'nothing: duet keeps both servers read-only at start and makes the writer writable'],
  ['super_read_only', 'nothing: duet keeps both servers read-only at start and makes the writer writable'],
  ['gtid_mode', 'nothing: duet sets it for MySQL'],
  ['enforce_gtid_consistency', 'nothing: duet sets it for MySQL'],
  ['skip_name_resolve', 'nothing: duet turns it on (every account duet creates is granted by address)'],
  ['ssl_ca', 'mysql.tls (duet issues the certificates)'],
  ['ssl_cert', 'mysql.tls (duet issues the certificates)'],
  ['ssl_key', 'mysql.tls (duet issues the certificates)'],
  ['ssl_capath', 'mysql.tls (duet issues the certificates)'],
  ['rpl_semi_sync_master_enabled', 'nothing: duet turns it on (MariaDB)'],
  ['rpl_semi_sync_slave_enabled', 'nothing: duet turns it on (MariaDB)'],
  ['rpl_semi_sync_master_wait_point', 'nothing: duet sets AFTER_SYNC (MariaDB)'],
  ['rpl_semi_sync_master_timeout', 'pairs[].heartbeat.deadtime (MariaDB: the timeout is deadtime)'],
  ['rpl_semi_sync_master_wait_no_slave', 'nothing: duet sets OFF (MariaDB)'],
  ['gtid_strict_mode', 'nothing: duet turns it on (MariaDB)'],
  ['init_rpl_role', 'nothing: duet sets SLAVE, so a restarted server drops its unacknowledged tail (MariaDB)'],
  ['rpl_semi_sync_slave_kill_conn_timeout', 'nothing: duet sets 1 s, so a takeover from a dead peer is not held back (MariaDB)'],
]);

/**
 * Options refused in mysql.settings, with why: they switch off authentication or access control, run
 * SQL or load code at start, open the file system, or change how the server parses the SQL duet
 * sends (a password in a string literal must stay a string literal). character_set_server and
 * collation_server stay allowed: duet's sessions set their own character set (SET NAMES), and the
 * client's character set cannot be overridden while character_set_client_handshake is on.
 */
export const REFUSED_OPTIONS = new Map<string, string>([
  ['skip_grant_tables', 'lets anyone log in as anyone, without a password'],
  ['init_file', 'runs SQL from a file as a superuser at every start'],
  ['init_connect', 'runs SQL at every client login'],
  ['init_slave', 'runs SQL in the replica threads'],
  ['init_replica', 'runs SQL in the replica threads'],
  ['sql_mode', "changes how the server parses duet's SQL (NO_BACKSLASH_ESCAPES, ANSI_QUOTES)"],
  ['ansi', "changes how the server parses duet's SQL (sql_mode ANSI)"],
  ['character_set_client_handshake', "makes the server ignore the character set duet's sessions ask for"],
  ['skip_networking', 'closes port 3306, which replication needs'],
  ['port', 'duet, the firewall rules and replication use port 3306'],
  ['socket', 'duet logs in through /run/mysqld/mysqld.sock'],
  ['user', 'changes the system user mysqld runs as'],
  ['secure_file_priv', 'decides where LOAD DATA and SELECT ... INTO OUTFILE may read and write files'],
  ['local_infile', 'lets clients make the server read files from their side'],
  ['plugin_load', 'loads code into the server at start'],
  ['plugin_load_add', 'loads code into the server at start'],
  ['plugin_dir', 'decides where the server loads code from'],
  ['allow_suspicious_udfs', 'lets user-defined functions load arbitrary library symbols'],
  ['old_passwords', 'stores passwords with a weak hash'],
  ['secure_auth', 'turning it off accepts logins with the weak pre-4.1 password hash'],
  ['log_raw', 'writes passwords in clear to the general log'],
]);

// Server option names as written in my.cnf.
const OPTION_NAME = /^[a-z][a-z0-9_-]*$/;
// Characters below space and DEL: a newline in a value would start a new option line in my.cnf.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/** How the server reads an option name's prefixes: loose_ (ignore if unknown), then skip_/disable_ (OFF), enable_ (ON), maximum_ (limit). */
const LOOSE_PREFIX = /^loose_/;
const SWITCH_PREFIX = /^(skip|disable|enable|maximum)_/;

/** The names the server may read an option name as: '-' and '_' alike, without loose_, and without skip_/enable_/.... */
export function optionNames(option: string): string[] {
  const name = option.toLowerCase().replace(/-/g, '_').replace(LOOSE_PREFIX, '');
  const base = name.replace(SWITCH_PREFIX, '');
  return base === name ? [name] : [name, base];
}

/**
 * Why duet does not take this option in mysql.settings, or undefined when it does. The server reads
 * '-' and '_' alike, ignores loose_, takes skip_X for X off, and accepts an unambiguous prefix of an
 * option's name (my_getopt), so each of those spellings of a managed or refused option is caught.
 */
export function refusedOption(option: string): { message: string; hint: string } | undefined {
  const names = optionNames(option);
  const as = (key: string) => (option.replace(/-/g, '_') === key ? '' : `(read by the server as ${key}) `);
  // Exact names first, so skip_name_resolve is reported as itself and not as a prefix of something.
  for (const exact of [true, false]) {
    const matches = (key: string) => optionNames(key).some((k) => names.some((n) => (exact ? k === n : k.startsWith(n))));
    for (const [key, owner] of MANAGED_OPTIONS) {
      if (matches(key)) return { message: `${option} ${as(key)}is managed by duet`, hint: `set it with ${owner}` };
    }
    for (const [key, why] of REFUSED_OPTIONS) {
      if (matches(key)) return { message: `${option} ${as(key)}is refused: it ${why}`, hint: 'remove it from mysql.settings (README.md lists the refused options)' };
    }
  }
  return undefined;
}

export const MAX_SERVER_ID = 4294967295;
/** The schema duet owns (canary and topology tables); it must replicate. */
export const DUET_SCHEMA = 'duet';

/** Worst case from a cut link to the monitor's giving the role up: a probe every interval (at least the 1 s ping timeout). */
export function isolationDetectionSeconds(interval: number, failures: number): number {
  return Math.max(interval, 1) * (failures + 1) + 1;
}

/** Offset of a node inside its pair: given, or its 1-based position. */
export function autoIncrementOffset(node: { auto_increment_offset?: number | undefined }, index: number): number {
  return node.auto_increment_offset ?? index + 1;
}

/** GTID domain of a node: given, or its server_id (already unique across the inventory). */
export function gtidDomainId(node: { gtid_domain_id?: number | undefined; server_id: number }): number {
  return node.gtid_domain_id ?? node.server_id;
}

/** Records where a value was first seen, and reports the later ones as duplicates. */
class UniqueCheck<T> {
  readonly #seen = new Map<T, FieldPath>();
  constructor(
    private readonly out: RuleViolation[],
    private readonly what: string,
    private readonly hint: string,
  ) {}

  /** False when the value was seen before (and reported). */
  check(value: T, path: FieldPath): boolean {
    const first = this.#seen.get(value);
    if (first === undefined) {
      this.#seen.set(value, path);
      return true;
    }
    this.out.push({ path, message: `${this.what} ${String(value)} is already used at ${formatPath(first)}`, hint: this.hint });
    return false;
  }
}

export function formatPath(path: FieldPath): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`), '');
}

/**
 * A floating IP written as ADDRESS/PREFIX: parsed, unique in the inventory, a host address of its
 * subnet, not any host's own address, and on the subnet of both hosts it moves between.
 */
function checkFloatingIp(
  out: RuleViolation[],
  vips: UniqueCheck<string>,
  text: string,
  hosts: ReadonlyArray<{ name: string; address: string }>,
  at: FieldPath,
  hostAt: (index: number) => FieldPath,
): Cidr | undefined {
  const vip = parseCidr(text);
  if (!vip) {
    out.push({ path: at, message: `${JSON.stringify(text)} is not an IPv4 address with a prefix length`, hint: 'write it as ADDRESS/PREFIX, e.g. 192.0.2.100/24: the prefix is the subnet of the interface' });
    return undefined;
  }
  vips.check(vip.address, at);
  if (isNetworkOrBroadcast(vip, vip.address)) {
    out.push({ path: at, message: `${vip.address} is the network or broadcast address of /${vip.prefixLength}`, hint: 'pick a free host address in the subnet' });
  }
  hosts.forEach((host, n) => {
    if (!isIpv4(host.address)) return;
    if (host.address === vip.address) {
      out.push({ path: at, message: `the floating IP ${vip.address} equals the address of node ${host.name}`, hint: 'the floating IP must be a free address that moves between the nodes' });
    } else if (!contains(vip, host.address)) {
      out.push({ path: hostAt(n), message: `${host.address} is outside the floating IP's subnet ${vip.address}/${vip.prefixLength}`, hint: 'both nodes must be on the subnet of the floating IP\'s interface, or it cannot move between them' });
    }
  });
  return vip;
}

type RawHeartbeat = RawInventory['pairs'][number]['heartbeat'];

/** Heartbeat's own constraints between keepalive, warntime, deadtime and initdead. */
function checkHeartbeatTiming(out: RuleViolation[], hb: RawHeartbeat, hbAt: (key: string) => FieldPath): void {
  if (hb.deadtime <= hb.keepalive) {
    out.push({ path: hbAt('deadtime'), message: `deadtime ${hb.deadtime} must be greater than keepalive ${hb.keepalive}`, hint: 'Heartbeat refuses it; a deadtime of at least twice keepalive avoids false failovers' });
  }
  if (hb.warntime !== undefined && (hb.warntime <= hb.keepalive || hb.warntime >= hb.deadtime)) {
    out.push({ path: hbAt('warntime'), message: `warntime ${hb.warntime} must lie between keepalive ${hb.keepalive} and deadtime ${hb.deadtime}`, hint: 'Heartbeat warns about late heartbeats after warntime and declares death after deadtime' });
  }
  if (hb.initdead < 2 * hb.deadtime) {
    out.push({ path: hbAt('initdead'), message: `initdead ${hb.initdead} must be at least twice deadtime (${2 * hb.deadtime})`, hint: 'Heartbeat warns otherwise: after a boot the network may need time to come up' });
  }
}

interface InventoryWideChecks {
  nodeNames: UniqueCheck<string>;
  addresses: UniqueCheck<string>;
  vips: UniqueCheck<string>;
  /** Every database node's address: the tier's floating IP must be none of them. */
  databaseAddresses: Set<string>;
  /** Every pair's floating IP: no load balancer may have one as its own address. */
  pairVips: Set<string>;
}

/** One pair's load_balancers section (README "Load balancers"). */
function checkLoadBalancers(out: RuleViolation[], pair: RawInventory['pairs'][number], at: FieldPath, wide: InventoryWideChecks): void {
  const lb = pair.load_balancers!;
  const lbAt = (...rest: FieldPath): FieldPath => [...at, ...rest];
  if (lb.nodes.length !== 2) {
    out.push({ path: lbAt('nodes'), message: `the load balancer tier needs exactly two nodes, found ${lb.nodes.length}`, hint: 'HAProxy runs on both and their floating IP moves between them' });
  }
  lb.nodes.forEach((node, n) => {
    wide.nodeNames.check(node.name, lbAt('nodes', n, 'name'));
    if (!isIpv4(node.address)) {
      out.push({ path: lbAt('nodes', n, 'address'), message: `${JSON.stringify(node.address)} is not an IPv4 address`, hint: "write the load balancer's own address, e.g. 192.0.2.21" });
    } else if (wide.pairVips.has(node.address)) {
      out.push({ path: lbAt('nodes', n, 'address'), message: `${node.address} is the floating IP of a pair`, hint: 'give the load balancer its own address' });
    } else {
      wide.addresses.check(node.address, lbAt('nodes', n, 'address'));
    }
  });
  const vip = checkFloatingIp(out, wide.vips, lb.vip.address, lb.nodes, lbAt('vip', 'address'), (n) => lbAt('nodes', n, 'address'));
  if (vip && wide.databaseAddresses.has(vip.address)) {
    out.push({ path: lbAt('vip', 'address'), message: `the floating IP ${vip.address} is the address of a database node`, hint: "the tier's floating IP must be a free address that moves between the load balancers" });
  }
  checkHeartbeatTiming(out, lb.heartbeat, (key) => lbAt('heartbeat', key));
  // Heartbeat broadcasts: two clusters on one network and one port hear each other's packets.
  const pairVip = parseCidr(pair.vip.address);
  const sameNetwork = vip !== undefined && pairVip !== undefined && (contains(vip, pairVip.address) || contains(pairVip, vip.address));
  if (sameNetwork && lb.heartbeat.udpport === pair.heartbeat.udpport) {
    out.push({
      path: lbAt('heartbeat', 'udpport'),
      message: `udpport ${lb.heartbeat.udpport} is the database pair's, on the same network`,
      hint: 'give the load balancers their own Heartbeat port (e.g. 695): both clusters broadcast on this network',
    });
  }
  const ports: Array<[string, number | undefined]> = [['port', lb.port], ['read_port', lb.read_port], ['agent_port', lb.agent_port]];
  ports.forEach(([key, value], i) => {
    const clash = ports.slice(0, i).find(([, other]) => other !== undefined && other === value);
    if (clash) out.push({ path: lbAt(key), message: `${key} ${value} is already ${clash[0]}`, hint: 'the write listener, the read listener and the writer agent each need their own port' });
  });
  if (lb.agent_port === MYSQL_PORT) {
    out.push({ path: lbAt('agent_port'), message: `agent_port ${MYSQL_PORT} is the database nodes' MySQL port`, hint: 'the writer agent listens beside MySQL on the database nodes; the default is 9200' });
  }
}

export function validateInventory(inv: RawInventory): RuleViolation[] {
  const out: RuleViolation[] = [];
  const serverIds = new UniqueCheck<number>(out, 'server_id', 'every server in the inventory needs its own server_id, or replication silently skips events (a slave stuck "connecting" with working telnet usually means this)');
  const domains = new UniqueCheck<number>(out, 'gtid_domain_id', 'give each node its own GTID domain (it defaults to the server_id)');
  const nodeNames = new UniqueCheck<string>(out, 'node name', 'node names must be unique: Heartbeat and duet identify hosts by them');
  const addresses = new UniqueCheck<string>(out, 'address', 'each node needs its own address');
  const pairNames = new UniqueCheck<string>(out, 'pair name', 'pair names must be unique');
  const vips = new UniqueCheck<string>(out, 'floating IP', 'each pair needs its own floating IP');
  const increment = inv.mysql.auto_increment_increment;
  if (inv.mysql.tls.renew_days >= inv.mysql.tls.days) {
    out.push({
      path: ['mysql', 'tls', 'renew_days'],
      message: `renew_days ${inv.mysql.tls.renew_days} is not less than days ${inv.mysql.tls.days}: every certificate would be issued again at every run`,
      hint: 'renew well before expiry, e.g. days: 397, renew_days: 30',
    });
  }

  inv.pairs.forEach((pair, p) => {
    const at = (...rest: FieldPath): FieldPath => ['pairs', p, ...rest];
    pairNames.check(pair.name, at('name'));

    if (pair.nodes.length !== 2) {
      out.push({ path: at('nodes'), message: `a pair needs exactly two nodes, found ${pair.nodes.length}`, hint: 'for more servers, add another pair (a fleet of shards)' });
    }
    const preferred = pair.nodes.filter((n) => n.preferred).length;
    if (pair.nodes.length === 2 && preferred !== 1) {
      out.push({ path: at('nodes'), message: `exactly one node must be preferred: true, found ${preferred}`, hint: 'the preferred node is writable and holds the floating IP on a fresh pair' });
    }
    if (increment < pair.nodes.length) {
      out.push({ path: ['mysql', 'auto_increment_increment'], message: `auto_increment_increment ${increment} is smaller than the ${pair.nodes.length} writers of pair ${pair.name}`, hint: 'use at least 2; 10 leaves room for more writers later' });
    }

    const offsets = new UniqueCheck<number>(out, 'auto_increment_offset', 'the two nodes of a pair need different offsets or their auto-increment ids collide');
    pair.nodes.forEach((node, n) => {
      const nodeAt = (...rest: FieldPath): FieldPath => at('nodes', n, ...rest);
      nodeNames.check(node.name, nodeAt('name'));
      if (!isIpv4(node.address)) {
        out.push({ path: nodeAt('address'), message: `${JSON.stringify(node.address)} is not an IPv4 address`, hint: 'write the node\'s own address, e.g. 192.0.2.11' });
      } else {
        addresses.check(node.address, nodeAt('address'));
      }
      const serverIdOk = node.server_id >= 1 && node.server_id <= MAX_SERVER_ID;
      if (!serverIdOk) {
        out.push({ path: nodeAt('server_id'), message: `server_id ${node.server_id} is out of range`, hint: `use 1..${MAX_SERVER_ID} (0 disables replication)` });
      }
      const serverIdUnique = serverIdOk && serverIds.check(node.server_id, nodeAt('server_id'));
      const offset = autoIncrementOffset(node, n);
      if (offset < 1 || offset > increment) {
        out.push({ path: nodeAt('auto_increment_offset'), message: `auto_increment_offset ${offset} must be between 1 and auto_increment_increment (${increment})`, hint: 'an offset larger than the increment makes ids collide' });
      } else {
        offsets.check(offset, nodeAt('auto_increment_offset'));
      }
      // A domain derived from a bad or duplicate server_id was reported with the server_id already.
      if (inv.mysql.flavor === 'mariadb' && (node.gtid_domain_id !== undefined || serverIdUnique)) {
        const domain = gtidDomainId(node);
        if (domain < 0 || domain > MAX_SERVER_ID) {
          out.push({ path: nodeAt('gtid_domain_id'), message: `gtid_domain_id ${domain} is out of range`, hint: `use 0..${MAX_SERVER_ID}` });
        } else {
          domains.check(domain, nodeAt(node.gtid_domain_id === undefined ? 'server_id' : 'gtid_domain_id'));
        }
      } else if (node.gtid_domain_id !== undefined) {
        out.push({ path: nodeAt('gtid_domain_id'), message: 'gtid_domain_id exists only on MariaDB', hint: 'remove it, or set mysql.flavor: mariadb' });
      }
    });

    const vip = checkFloatingIp(out, vips, pair.vip.address, pair.nodes, at('vip', 'address'), (n) => at('nodes', n, 'address'));
    const hb = pair.heartbeat;
    checkHeartbeatTiming(out, hb, (key) => at('heartbeat', key));

    const fo = pair.failover;
    const foAt = (key: string): FieldPath => at('failover', key);
    if (!isIpv4(fo.ping_node)) {
      out.push({ path: foAt('ping_node'), message: `${JSON.stringify(fo.ping_node)} is not an IPv4 address`, hint: 'name a third host both nodes reach and that answers ping, usually their default gateway' });
    } else if (pair.nodes.some((n) => n.address === fo.ping_node) || vip?.address === fo.ping_node) {
      out.push({ path: foAt('ping_node'), message: `the ping node ${fo.ping_node} is a node or the floating IP of this pair`, hint: 'it must be a third party (the gateway): it decides which side of a cut link keeps the writer' });
    }
    // A node cut off from the network must have given the role up before the peer takes it.
    const isolationSeconds = isolationDetectionSeconds(fo.monitor_interval, fo.monitor_failures);
    if (isolationSeconds >= hb.deadtime) {
      out.push({
        path: foAt('monitor_failures'),
        message: `the monitor needs up to ${isolationSeconds} s (monitor_interval ${fo.monitor_interval} x (monitor_failures ${fo.monitor_failures} + 1) + 1 s) to notice a cut link, not less than deadtime ${hb.deadtime}`,
        hint: 'a cut-off writer would still be writable when the peer takes over: lower monitor_interval or monitor_failures, or raise heartbeat.deadtime',
      });
    }
    if (fo.stonith_host !== undefined && /[\x00-\x1f\x7f]/.test(fo.stonith_host)) {
      out.push({ path: foAt('stonith_host'), message: 'stonith_host must be one line', hint: 'write what follows `stonith_host` in ha.cf, e.g. "* external/ipmi db-01 10.0.0.1 admin PASSWORD lanplus"' });
    }
  });

  // The load-balanced tiers last: their names, addresses and floating IPs must not take those of any
  // database node or pair, wherever in the file that is.
  const databaseAddresses = new Set(inv.pairs.flatMap((p) => p.nodes.map((n) => n.address)));
  const pairVips = new Set(inv.pairs.map((p) => parseCidr(p.vip.address)?.address).filter((a) => a !== undefined));
  inv.pairs.forEach((pair, p) => {
    if (pair.load_balancers) checkLoadBalancers(out, pair, ['pairs', p, 'load_balancers'], { nodeNames, addresses, vips, databaseAddresses, pairVips });
  });

  // SSH reaches a host on its own addresses, IPv6 ones too (ip6tables gets those rules); MySQL is
  // reached on the floating IP only, which is IPv4, so an IPv6 source there could reach nothing.
  const cidrList = (key: 'ssh_from' | 'mysql_from') =>
    (inv.firewall[key] ?? []).forEach((text, i) => {
      const family = cidrFamily(text);
      if (family === undefined) {
        const what = key === 'ssh_from' ? 'an IPv4 or IPv6 address or CIDR' : 'an IPv4 address or CIDR';
        const hint = key === 'ssh_from' ? 'write e.g. 192.0.2.10/32, 192.0.2.0/24 or 2001:db8::/64' : 'write e.g. 192.0.2.10/32 or 192.0.2.0/24';
        out.push({ path: ['firewall', key, i], message: `${JSON.stringify(text)} is not ${what}`, hint });
      } else if (family === 6 && key === 'mysql_from') {
        out.push({
          path: ['firewall', key, i],
          message: `${JSON.stringify(text)} is IPv6, but applications reach MySQL on the floating IP only, which is IPv4`,
          hint: "list the application hosts' IPv4 addresses or networks here (firewall.ssh_from takes IPv6 sources)",
        });
      }
    });
  if (inv.firewall.manage && (inv.firewall.ssh_from === undefined || inv.firewall.ssh_from.length === 0)) {
    out.push({
      path: ['firewall', 'ssh_from'],
      message: inv.firewall.ssh_from === undefined ? 'is required while firewall.manage is on' : 'must list at least one network, or nobody can log in over SSH',
      hint: 'list the networks duet and the operators connect from, e.g. ssh_from: [192.0.2.0/24]; write [0.0.0.0/0] only if SSH must be open to every address',
    });
  }
  cidrList('ssh_from');
  cidrList('mysql_from');

  for (const [option, value] of Object.entries(inv.mysql.settings)) {
    const at: FieldPath = ['mysql', 'settings', option];
    if (!OPTION_NAME.test(option)) {
      out.push({ path: at, message: `${JSON.stringify(option)} is not a server option name`, hint: 'write option names in lower case with _ or -, e.g. innodb_buffer_pool_size' });
      continue;
    }
    const refused = refusedOption(option);
    if (refused) out.push({ path: at, ...refused });
    if (typeof value === 'string' && CONTROL_CHARACTER.test(value)) {
      out.push({ path: at, message: `the value of ${option} holds a line break or another control character`, hint: 'write the value on one line, without control characters' });
    }
  }
  inv.mysql.ignore_databases.forEach((db, i) => {
    if (db === DUET_SCHEMA) {
      out.push({ path: ['mysql', 'ignore_databases', i], message: `the ${DUET_SCHEMA} schema must replicate`, hint: 'duet keeps its canary and topology tables there; remove it from ignore_databases' });
    } else if (inv.mysql.databases.includes(db)) {
      out.push({ path: ['mysql', 'ignore_databases', i], message: `${db} is both replicated and ignored`, hint: 'list it in databases or in ignore_databases, not both' });
    }
  });

  const failoverHook = inv.hooks?.post_failover?.run;
  if (failoverHook !== undefined && /[\x00-\x1f\x7f]/.test(failoverHook)) {
    out.push({ path: ['hooks', 'post_failover', 'run'], message: 'the post_failover command must be one line', hint: 'it is written into the resource script on the nodes; put longer scripts in a file on the nodes and name it here' });
  }
  return out;
}

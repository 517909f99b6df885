// The resolved inventory: what load() returns after parsing, defaulting, resolving secrets and
// validating. Everything downstream (render, plan, ops) reads only these types, never raw YAML.
import type { SshHop } from '../transport/ssh-config.ts';
import type { NodeTls } from '../plan/tls.ts';
import type { Secret } from './secret.ts';

export type Flavor = 'mariadb' | 'mysql';

/** The port MySQL listens on, on every node (replication, firewall rules and checks use it). */
export const MYSQL_PORT = 3306;

export interface SshSettings {
  user: string;
  port: number;
  /** Absolute path of the private key; undefined means use ssh-agent (SSH_AUTH_SOCK). */
  identity: string | undefined;
  /** Absolute path of the OpenSSH client config that was read (ssh.config), for messages; undefined: none. */
  config?: string | undefined;
  /** Absolute path of the known_hosts file that host keys are checked against. */
  knownHosts: string;
  /** Run privileged commands through `sudo -n` (for a non-root user). */
  sudo: boolean;
  connectTimeoutSeconds: number;
}

export interface MysqlSettings {
  flavor: Flavor;
  /** Replicated schemas (binlog_do_db); empty means all. */
  databases: string[];
  /** Schemas never written to the binlog (binlog_ignore_db). */
  ignoreDatabases: string[];
  autoIncrementIncrement: number;
  expireLogsDays: number;
  maxBinlogSize: string;
  replication: { user: string; password: Secret };
  /** Extra [mysqld] options, already validated, in the order given. */
  settings: Array<[name: string, value: string]>;
  tls: TlsSettings;
}

/** TLS between the peers: where the cluster's CA and the nodes' keys live on the controller (mysql.tls). */
export interface TlsSettings {
  /** Absolute path of the folder (0700) holding ca.key, ca.pem, NODE.key and NODE.pem. */
  dir: string;
  /** Validity of a node certificate, in days. */
  days: number;
  /** A node certificate expiring within this many days is issued again. */
  renewDays: number;
}

/** What SSH needs of any host duet manages: a database node or a load balancer. */
export interface HostSpec {
  /** Must equal `uname -n` on the host: Heartbeat identifies nodes by it. */
  name: string;
  /** The host's own IP address on its network. */
  address: string;
  /** Where SSH connects: ssh_host, else ssh.config's HostName, else address. */
  sshHost: string;
  /** ssh_port, else ssh.port, else ssh.config's Port, else 22. */
  sshPort: number;
  /** The private key from ssh.config's IdentityFile, when ssh.identity is not set (which then applies). */
  sshIdentity?: string | undefined;
  /** Hosts to go through first (ssh.config's ProxyJump), in order; none or empty: a direct connection. */
  sshJump?: SshHop[] | undefined;
  /** Pinned host key ("ssh-ed25519 AAAA..."); when set it is used instead of known_hosts. */
  hostKey: string | undefined;
}

/** A database node; its address is the one replication and Heartbeat use. */
export interface NodeSpec extends HostSpec {
  serverId: number;
  /** The node that is writable and holds the floating IP on a fresh pair. */
  preferred: boolean;
  autoIncrementOffset: number;
  gtidDomainId: number;
}

export interface HeartbeatSettings {
  keepalive: number;
  warntime: number;
  deadtime: number;
  initdead: number;
  udpport: number;
  autoFailback: boolean;
  /** Interface Heartbeat broadcasts on (defaults to the VIP's interface). */
  interface: string;
  authkey: Secret;
}

/** What duet adds to Heartbeat for unplanned failures: the monitor, the tie-breaker and fencing. */
export interface FailoverSettings {
  /**
   * The third party that tells a dead peer from a cut link: a node that reaches neither the peer nor
   * this address gives the writer role up, and a node takes the role from an unreachable peer only
   * while it reaches this address.
   */
  pingNode: string;
  /** Seconds between the monitor's probes. */
  monitorInterval: number;
  /** Failed probes in a row before the monitor acts. */
  monitorFailures: number;
  /** Seconds: a writer that got the role less than this ago never hands it on by itself (no ping-pong). */
  flapWindow: number;
  /** A Heartbeat stonith_host line (after the keyword), when the site has a power switch. */
  stonithHost: string | undefined;
  /**
   * Password of the account each node's resource script and monitor use on the peer's server to
   * fence it (read_only, kill clients) and to read its position. Derived from the authkey, so the
   * pair's one shared secret stays the only one to manage.
   */
  fencePassword: Secret;
}

export interface Vip {
  address: string;
  prefixLength: number;
  interface: string;
}

/**
 * Two HAProxy hosts in front of a pair, with their own Heartbeat floating IP (README "Load
 * balancers"). HAProxy runs on both; only the IP moves. Writes go to the database node whose
 * writer agent answers `up` (writable), reads (readPort) to any running node.
 */
export interface LoadBalancerTier {
  vip: Vip;
  /** Clients' port on the tier's floating IP (writes). */
  port: number;
  /** A second listener balancing reads over both nodes; undefined when there is none. */
  readPort: number | undefined;
  /** The writer agent's port on each database node. */
  agentPort: number;
  heartbeat: HeartbeatSettings;
  /** Exactly two, in inventory order; the first holds the tier's IP on a fresh tier. */
  nodes: [HostSpec, HostSpec];
}

export interface PairSpec {
  name: string;
  vip: Vip;
  heartbeat: HeartbeatSettings;
  failover: FailoverSettings;
  /** Exactly two, in inventory order; exactly one is preferred. */
  nodes: [NodeSpec, NodeSpec];
  /** The load-balanced tier in front of the pair, when the inventory has one. */
  loadBalancers?: LoadBalancerTier | undefined;
}

export interface FirewallSettings {
  /** Whether duet manages iptables at all. */
  manage: boolean;
  sshFrom: string[];
  /** Application hosts allowed to reach MySQL, on the floating IP only (never a node's own address). */
  mysqlFrom: string[];
}

/** A command run on the controller (hooks), with /bin/sh in the inventory's folder. */
export interface Hook {
  run: string;
  timeoutSeconds: number;
}

/** Commands around a swap (README "Hooks"): a failing pre_swap aborts it before any change; a failing post_swap warns. */
export interface SwapHooks {
  preSwap?: Hook | undefined;
  postSwap?: Hook | undefined;
  /** Run on the node that took the writer role through Heartbeat (its resource script), in the background; a failure is logged. */
  postFailover?: Hook | undefined;
}

export interface Inventory {
  /** Absolute path of the inventory file (error messages name it). */
  file: string;
  cluster: string;
  ssh: SshSettings;
  mysql: MysqlSettings;
  firewall: FirewallSettings;
  pairs: PairSpec[];
  /** hooks: (swap's, on the controller); undefined or empty: none. */
  hooks?: SwapHooks | undefined;
  /** Absolute path of the audit log: audit_log, default ~/.duet/log/<cluster>.jsonl. */
  auditLog: string;
  /** Every resolved secret, so output can be redacted. */
  secrets: Secret[];
  /**
   * Each node's TLS material (CA, certificate, key) by node name, once provision has prepared the
   * controller's folder (ops/tls.ts preparePki); undefined in the other commands.
   */
  tlsMaterial?: Map<string, NodeTls> | undefined;
}

export function peerOf(pair: PairSpec, node: NodeSpec): NodeSpec {
  return peerHost(pair.nodes, node);
}

export function preferredNode(pair: PairSpec): NodeSpec {
  return pair.nodes[0].preferred ? pair.nodes[0] : pair.nodes[1];
}

export function allNodes(inv: Inventory): Array<{ pair: PairSpec; node: NodeSpec }> {
  return inv.pairs.flatMap((pair) => pair.nodes.map((node) => ({ pair, node })));
}

export function peerHost<T extends HostSpec>(nodes: readonly [T, T], host: HostSpec): T {
  return nodes[0].name === host.name ? nodes[1] : nodes[0];
}

/** Every load balancer of every pair, with its pair and tier. */
export function allLoadBalancers(inv: Inventory): Array<{ pair: PairSpec; tier: LoadBalancerTier; host: HostSpec }> {
  return inv.pairs.flatMap((pair) => (pair.loadBalancers ? pair.loadBalancers.nodes.map((host) => ({ pair, tier: pair.loadBalancers!, host })) : []));
}

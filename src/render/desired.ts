// What every host should hold: each config file's path, content, owner, mode and the service that
// reads it, rendered from the resolved inventory. Pure: the only I/O is reading templates.
import { RenderError } from '../errors.ts';
import type { HeartbeatSettings, HostSpec, Inventory, LoadBalancerTier, NodeSpec, PairSpec } from '../inventory/model.ts';
import { allLoadBalancers, allNodes, MYSQL_PORT, peerHost, peerOf, preferredNode } from '../inventory/model.ts';
import { DUET_SCHEMA } from '../inventory/validate.ts';
import { clientConnectionIds, duetAccounts, grantWriterRole, literalSql, replicaDumpConnectionIds, serverProcessName, TOPOLOGY_TABLE, writerRoleScriptSql } from '../mysql/dialect.ts';
import type { NodeTls } from '../plan/tls.ts';
import { cidrFamily } from '../inventory/net.ts';
import { shellQuote } from '../transport/shell.ts';
import { renderTemplate, type TemplateContext } from './engine.ts';
import { bootFilePath, describeFirewallBoot, FIREWALL_UNIT_PATH, IFUPDOWN_HOOK_PATH, KERNEL_IPV6_MARKER, rulesPaths, type FirewallBoot } from './firewall-boot.ts';

export interface DesiredFile {
  /** Absolute path on the host. */
  path: string;
  content: string;
  mode: number;
  owner: string;
  group: string;
  /** The service that must be reloaded or restarted when this file changes. */
  service: 'mysql' | 'firewall' | 'heartbeat' | 'haproxy' | 'agent' | 'tls';
  /** The content holds a secret: diffs and logs of it must be redacted. */
  secret: boolean;
  /** How to validate the content on the host before installing it. */
  check?: 'iptables-restore' | 'ip6tables-restore' | 'mysqld-options' | 'haproxy';
}

const SECONDS_PER_DAY = 86_400;

export const HARESOURCES_PATH = '/etc/ha.d/haresources';
export const HA_LOG_PATH = '/var/log/ha-log';
export const MONITOR_PATH = '/etc/ha.d/duet-monitor';
/** Client options of the fence account (its password): root only. */
const FENCE_OPTIONS_PATH = '/etc/ha.d/duet-fence.cnf';
/** The account each node's scripts log in to the peer's server with, to fence it. */
export const FENCE_USER = 'duet_fence';
/** The locked account on each database node for each load balancer's address (no privileges, no usable password). */
export const LOAD_BALANCER_ACCOUNT = 'duet_lb';
/** While it holds a time in the future, the monitor takes no action on that node (provision restarts a server). */
export const MAINTENANCE_PATH = '/run/duet-maintenance';
/** Beside Heartbeat's own state (hb_uuid, hb_generation): per node, kept across reboots. */
export const WRITER_SINCE_PATH = '/var/lib/heartbeat/duet-writer-since';
/** Heartbeat's own way to hand the resources to the peer (Debian's path). */
const HB_STANDBY = '/usr/share/heartbeat/hb_standby';
export const WRITER_RESOURCE = 'duet-writer';
export const WRITER_RESOURCE_PATH = `/etc/ha.d/resource.d/${WRITER_RESOURCE}`;
/** How long the resource script's start waits for the relay log to be applied before it gives up. */
const WRITER_APPLY_TIMEOUT_SECONDS = 60;
/** How long its stop waits for the peer to be sent the whole binlog (then it stops anyway). */
const WRITER_SEND_TIMEOUT_SECONDS = 10;

export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';
/** HAProxy's admin socket (Debian's path): status reads which server is up from it. */
export const HAPROXY_STATS_SOCKET = '/run/haproxy/admin.sock';
/** The listener (HAProxy proxy) names: status and verify look them up on the stats socket. */
export const HAPROXY_WRITE_LISTENER = 'writer';
export const HAPROXY_READ_LISTENER = 'reader';
/**
 * The writer listener's health check: every 300 ms while up, every 100 ms once a check failed and
 * 200 ms while down; two failures mark a server down, one success up. A writer that turns read-only
 * is out within about half a second, and a new writer is in within about 200 ms of becoming writable.
 */
const HAPROXY_WRITE_CHECK = 'inter 300ms fastinter 100ms downinter 200ms fall 2 rise 1';
const HAPROXY_READ_CHECK = 'inter 1s fastinter 200ms downinter 500ms fall 2 rise 1';
/** The agent HAProxy's health check asks on each database node: the script, and the service running socat. */
export const WRITER_AGENT_PATH = '/etc/duet/writer-agent';
export const AGENT_SERVICE = 'duet-agent';
export const AGENT_INIT_PATH = `/etc/init.d/${AGENT_SERVICE}`;
export const AGENT_PID_PATH = `/run/${AGENT_SERVICE}.pid`;

/**
 * Where a node keeps the cluster's CA, its certificate and its key (mysql.tls): beside my.cnf, in a
 * folder every user can enter, so the server (user mysql) reads its key, mode 0600 and its own.
 */
export const TLS_PATHS = { ca: '/etc/mysql/duet-ca.pem', cert: '/etc/mysql/duet-cert.pem', key: '/etc/mysql/duet-key.pem' } as const;

export interface DesiredOptions {
  /**
   * The node haresources names: Heartbeat gives it the floating IP (and so the write role) when both
   * nodes start with neither holding it. The writer recorded on the hosts by the last swap (see
   * recordedWriter); the inventory's preferred node when there is none.
   */
  writer?: string;
  /**
   * The node's CA, certificate and key (ops/tls.ts preparePki). Without them (render without the
   * controller's folder) the three files are left out; my.cnf names them either way.
   */
  tls?: NodeTls | undefined;
  /**
   * How the host loads the firewall rules at boot (chooseFirewallBoot, from its facts); without
   * facts (`duet render`), the ifupdown hook.
   */
  firewallBoot?: FirewallBoot;
}

/** Every file duet manages on one node: the mysql files, then the firewall files, then the heartbeat files. */
export function desiredFiles(inv: Inventory, pair: PairSpec, node: NodeSpec, options: DesiredOptions = {}): DesiredFile[] {
  if (!pair.nodes.some((n) => n.name === node.name)) {
    throw new RenderError(`node ${node.name} is not in pair ${pair.name}`);
  }
  const writer = options.writer ?? preferredNode(pair).name;
  if (!pair.nodes.some((n) => n.name === writer)) {
    throw new RenderError(`the writer ${writer} is not a node of pair ${pair.name}`);
  }
  return [
    mysqlConfig(inv, pair, node),
    ...(options.tls ? tlsFiles(options.tls, 'mysql') : []),
    ...(inv.firewall.manage ? firewallFiles(inv, pair, node, options.firewallBoot ?? DEFAULT_FIREWALL_BOOT) : []),
    ...heartbeatFiles(inv, pair, node, writer),
    ...(pair.loadBalancers ? agentFiles(inv, pair, pair.loadBalancers, node) : []),
  ];
}

/**
 * Every file duet manages on a load balancer of the pair: haproxy.cfg, the firewall files, then
 * Heartbeat's (the tier's own cluster: only the floating IP moves).
 */
export function loadBalancerFiles(inv: Inventory, pair: PairSpec, host: HostSpec, options: Pick<DesiredOptions, 'firewallBoot'> = {}): DesiredFile[] {
  const tier = pair.loadBalancers;
  if (!tier || !tier.nodes.some((n) => n.name === host.name)) {
    throw new RenderError(`${host.name} is not a load balancer of pair ${pair.name}`);
  }
  // Identical on both load balancers, header included (Heartbeat wants that of its files).
  const managedFor = `cluster ${inv.cluster}, pair ${pair.name}, load balancers (the same file on both nodes)`;
  return [
    haproxyConfig(inv, pair, tier, managedFor),
    ...(inv.firewall.manage ? loadBalancerFirewallFiles(inv, pair, tier, host, options.firewallBoot ?? DEFAULT_FIREWALL_BOOT) : []),
    haCf(managedFor, tier.heartbeat, tier.nodes, [], []),
    rootFile({
      path: HARESOURCES_PATH,
      template: 'lb-haresources',
      mode: 0o644,
      service: 'heartbeat',
      context: {
        managedFor,
        holder: tier.nodes[0].name,
        vip: tier.vip.address,
        prefixLength: tier.vip.prefixLength,
        interface: tier.vip.interface,
      },
    }),
    authkeysFile(managedFor, tier.heartbeat),
  ];
}

/**
 * The node an installed haresources names, when it is a node of the pair: how a swap's choice of
 * writer is kept (the file Heartbeat itself reads at a cold start).
 */
export function recordedWriter(pair: PairSpec, haresources: string | undefined): string | undefined {
  const line = haresources?.split('\n').find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const name = line?.trim().split(/\s+/)[0];
  return pair.nodes.find((n) => n.name === name)?.name;
}

/** desiredFiles for every node of every pair, then loadBalancerFiles for every load balancer, keyed by host name. */
export function renderInventory(inv: Inventory): Map<string, DesiredFile[]> {
  return new Map([
    ...allNodes(inv).map(({ pair, node }): [string, DesiredFile[]] => [node.name, desiredFiles(inv, pair, node)]),
    ...allLoadBalancers(inv).map(({ pair, host }): [string, DesiredFile[]] => [host.name, loadBalancerFiles(inv, pair, host)]),
  ]);
}

interface FileSpec {
  path: string;
  template: string;
  context: TemplateContext;
  mode: number;
  service: DesiredFile['service'];
  secret?: boolean;
  check?: DesiredFile['check'];
}

function rootFile({ path, template, context, mode, service, secret = false, check }: FileSpec): DesiredFile {
  const file: DesiredFile = { path, content: renderTemplate(template, context), mode, owner: 'root', group: 'root', service, secret };
  if (check) file.check = check;
  return file;
}

/** For the header of a file that differs between the two nodes. */
function managedForNode(inv: Inventory, pair: PairSpec, node: NodeSpec): string {
  return `cluster ${inv.cluster}, pair ${pair.name}, node ${node.name}`;
}

/** Heartbeat wants ha.cf, haresources and authkeys identical on both nodes, header included. */
function managedForPair(inv: Inventory, pair: PairSpec): string {
  return `cluster ${inv.cluster}, pair ${pair.name} (the same file on both nodes)`;
}

function mysqlConfig(inv: Inventory, pair: PairSpec, node: NodeSpec): DesiredFile {
  const { mysql } = inv;
  const confDir = mysql.flavor === 'mariadb' ? '/etc/mysql/mariadb.conf.d' : '/etc/mysql/mysql.conf.d';
  // binlog_do_db is a whitelist: once there is one, duet's schema must be on it or it stops replicating.
  const replicatedDatabases =
    mysql.databases.length === 0 ? [] : [...new Set([...mysql.databases, DUET_SCHEMA])];
  return rootFile({
    path: `${confDir}/60-duet.cnf`,
    template: 'my.cnf',
    mode: 0o644,
    service: 'mysql',
    check: 'mysqld-options',
    context: {
      managedFor: managedForNode(inv, pair, node),
      mariadb: mysql.flavor === 'mariadb',
      serverId: node.serverId,
      nodeName: node.name,
      expireLogsDays: mysql.expireLogsDays,
      expireLogsSeconds: mysql.expireLogsDays * SECONDS_PER_DAY,
      maxBinlogSize: mysql.maxBinlogSize,
      replicatedDatabases,
      ignoredDatabases: mysql.ignoreDatabases,
      autoIncrementIncrement: mysql.autoIncrementIncrement,
      autoIncrementOffset: node.autoIncrementOffset,
      gtidDomainId: node.gtidDomainId,
      semiSyncTimeoutMs: pair.heartbeat.deadtime * 1000,
      settings: mysql.settings.map(([name, value]) => ({ name, value })),
      tls: TLS_PATHS,
    },
  });
}

/**
 * The node's TLS files. A new certificate does not restart the server: service `tls` reloads them
 * (FLUSH SSL), and established replication connections keep going.
 */
function tlsFiles(tls: NodeTls, serverUser: string): DesiredFile[] {
  const file = (path: string, content: string, secret: boolean): DesiredFile => ({
    path,
    content,
    mode: secret ? 0o600 : 0o644,
    owner: secret ? serverUser : 'root',
    group: secret ? serverUser : 'root',
    service: 'tls',
    secret,
  });
  return [file(TLS_PATHS.ca, tls.ca, false), file(TLS_PATHS.cert, tls.cert, false), file(TLS_PATHS.key, tls.key.reveal(), true)];
}

function firewallFiles(inv: Inventory, pair: PairSpec, node: NodeSpec, boot: FirewallBoot): DesiredFile[] {
  const managedFor = managedForNode(inv, pair, node);
  const peer = peerOf(pair, node);
  return rulesFiles(inv, managedFor, node, boot, 'iptables.rules', {
    peerName: peer.name,
    peerAddress: peer.address,
    nodeAddress: node.address,
    loadBalancers: (pair.loadBalancers?.nodes ?? []).map((lb) => ({ address: lb.address, agentPort: pair.loadBalancers!.agentPort })),
    mysqlPort: MYSQL_PORT,
    mysqlFrom: inv.firewall.mysqlFrom,
    vip: pair.vip.address,
    heartbeatPort: pair.heartbeat.udpport,
  });
}

/** Without facts (duet render): the way the fixtures and older duet load the rules. */
const DEFAULT_FIREWALL_BOOT: FirewallBoot = 'ifupdown';

/**
 * A host's rules files, IPv4 (checked with iptables-restore --test) and IPv6 (ip6tables-restore
 * --test), and the file that loads them at boot when `boot` has one of duet's own, with what every
 * host's rules share (its header, SSH from firewall.ssh_from, each address in the file of its family).
 * The pair's own addresses are IPv4, so the IPv6 rules are the same for every host but for SSH.
 */
function rulesFiles(inv: Inventory, managedFor: string, host: HostSpec, boot: FirewallBoot, template: string, context: TemplateContext): DesiredFile[] {
  const paths = rulesPaths(boot);
  const shared = { managedFor, bootBy: describeFirewallBoot(boot), sshPort: host.sshPort };
  const bootFile = bootFilePath(boot);
  return [
    rootFile({
      path: paths.v4,
      template,
      mode: 0o640,
      service: 'firewall',
      check: 'iptables-restore',
      context: { ...shared, sshFrom: inv.firewall.sshFrom.filter((c) => cidrFamily(c) === 4), ...context },
    }),
    rootFile({
      path: paths.v6,
      template: 'ip6tables.rules',
      mode: 0o640,
      service: 'firewall',
      check: 'ip6tables-restore',
      context: { ...shared, sshFrom: inv.firewall.sshFrom.filter((c) => cidrFamily(c) === 6) },
    }),
    ...(bootFile === undefined
      ? []
      : [
          rootFile({
            path: bootFile,
            template: bootFile === IFUPDOWN_HOOK_PATH ? 'duet-iptables' : 'duet-firewall.service',
            mode: bootFile === FIREWALL_UNIT_PATH ? 0o644 : 0o755,
            service: 'firewall',
            context: { managedFor, rulesPath: paths.v4, rules6Path: paths.v6, ipv6Marker: KERNEL_IPV6_MARKER },
          }),
        ]),
  ];
}

function heartbeatFiles(inv: Inventory, pair: PairSpec, node: NodeSpec, writer: string): DesiredFile[] {
  const managedFor = managedForPair(inv, pair);
  const { heartbeat, vip } = pair;
  return [
    haCf(managedFor, heartbeat, pair.nodes, [MONITOR_PATH], pair.failover.stonithHost === undefined ? [] : [pair.failover.stonithHost]),
    rootFile({
      path: HARESOURCES_PATH,
      template: 'haresources',
      mode: 0o644,
      service: 'heartbeat',
      context: {
        managedFor,
        writer,
        writerResource: WRITER_RESOURCE,
        vip: vip.address,
        prefixLength: vip.prefixLength,
        interface: vip.interface,
      },
    }),
    authkeysFile(managedFor, heartbeat),
    rootFile({
      path: FENCE_OPTIONS_PATH,
      template: 'duet-fence.cnf',
      mode: 0o600,
      service: 'heartbeat',
      secret: true,
      context: { managedFor, user: FENCE_USER, password: pair.failover.fencePassword.reveal() },
    }),
    writerResource(inv, pair, node),
    monitorScript(inv, pair, node),
  ];
}

/** ha.cf of a Heartbeat cluster of two hosts; monitorPaths are respawned by Heartbeat. */
function haCf(managedFor: string, heartbeat: HeartbeatSettings, nodes: readonly HostSpec[], monitorPaths: string[], stonithHosts: string[]): DesiredFile {
  return rootFile({
    path: '/etc/ha.d/ha.cf',
    template: 'ha.cf',
    mode: 0o644,
    service: 'heartbeat',
    context: {
      managedFor,
      keepalive: heartbeat.keepalive,
      warntime: heartbeat.warntime,
      deadtime: heartbeat.deadtime,
      initdead: heartbeat.initdead,
      udpport: heartbeat.udpport,
      interface: heartbeat.interface,
      autoFailback: heartbeat.autoFailback ? 'on' : 'off',
      nodeNames: nodes.map((n) => n.name),
      monitorPaths,
      stonithHosts,
    },
  });
}

function authkeysFile(managedFor: string, heartbeat: HeartbeatSettings): DesiredFile {
  return rootFile({
    path: '/etc/ha.d/authkeys',
    template: 'authkeys',
    mode: 0o600,
    service: 'heartbeat',
    secret: true,
    context: { managedFor, authkey: heartbeat.authkey.reveal() },
  });
}

function haproxyConfig(inv: Inventory, pair: PairSpec, tier: LoadBalancerTier, managedFor: string): DesiredFile {
  return rootFile({
    path: HAPROXY_CONFIG_PATH,
    template: 'haproxy.cfg',
    mode: 0o644,
    service: 'haproxy',
    check: 'haproxy',
    context: {
      managedFor,
      pairName: pair.name,
      vip: tier.vip.address,
      statsSocket: HAPROXY_STATS_SOCKET,
      maxconn: 4096,
      connectTimeout: '2s',
      checkTimeout: '1s',
      idleTimeout: '1h',
      writeListener: HAPROXY_WRITE_LISTENER,
      port: tier.port,
      agentPort: tier.agentPort,
      mysqlPort: MYSQL_PORT,
      writeCheck: HAPROXY_WRITE_CHECK,
      readCheck: HAPROXY_READ_CHECK,
      servers: pair.nodes.map((n) => ({ name: n.name, address: n.address })),
      readListeners: tier.readPort === undefined ? [] : [{ name: HAPROXY_READ_LISTENER, port: tier.readPort }],
    },
  });
}

function loadBalancerFirewallFiles(inv: Inventory, pair: PairSpec, tier: LoadBalancerTier, host: HostSpec, boot: FirewallBoot): DesiredFile[] {
  const managedFor = `cluster ${inv.cluster}, pair ${pair.name}, load balancer ${host.name}`;
  const peer = peerHost(tier.nodes, host);
  const ports = [tier.port, ...(tier.readPort === undefined ? [] : [tier.readPort])];
  return rulesFiles(inv, managedFor, host, boot, 'lb-iptables.rules', {
    vip: tier.vip.address,
    clientRules: inv.firewall.mysqlFrom.flatMap((from) => ports.map((port) => ({ from, port }))),
    peerName: peer.name,
    peerAddress: peer.address,
    heartbeatPort: tier.heartbeat.udpport,
  });
}

/** On a database node of a pair with load balancers: the writer agent and the service that runs it. */
function agentFiles(inv: Inventory, pair: PairSpec, tier: LoadBalancerTier, node: NodeSpec): DesiredFile[] {
  const managedFor = managedForNode(inv, pair, node);
  const sql = writerRoleScriptSql(inv.mysql.flavor);
  return [
    rootFile({
      path: WRITER_AGENT_PATH,
      template: 'duet-writer-agent',
      mode: 0o755,
      service: 'agent',
      context: { managedFor, localClient: sql.localClient, selectReadOnly: shellQuote(sql.selectReadOnly) },
    }),
    rootFile({
      path: AGENT_INIT_PATH,
      template: 'duet-agent.init',
      mode: 0o755,
      service: 'agent',
      context: { managedFor, address: node.address, port: tier.agentPort, agentPath: WRITER_AGENT_PATH, pidFile: AGENT_PID_PATH },
    }),
  ];
}

/** What both role scripts (the resource script and the monitor) share: templates/role-functions.partial.hbs. */
function roleScriptContext(inv: Inventory, pair: PairSpec, node: NodeSpec): TemplateContext {
  const sql = writerRoleScriptSql(inv.mysql.flavor);
  const q = (statement: string) => shellQuote(statement);
  const peer = peerOf(pair, node);
  return {
    managedFor: managedForNode(inv, pair, node),
    nodeName: node.name,
    peerName: peer.name,
    peerAddress: peer.address,
    pingNode: pair.failover.pingNode,
    vip: pair.vip.address,
    vipResource: `${pair.vip.address}/${pair.vip.prefixLength}/${pair.vip.interface}`,
    fenceOptionsPath: FENCE_OPTIONS_PATH,
    writerSincePath: WRITER_SINCE_PATH,
    topologyTable: `${DUET_SCHEMA}.${TOPOLOGY_TABLE}`,
    schema: DUET_SCHEMA,
    client: sql.client,
    localClient: sql.localClient,
    selectReadOnly: q(sql.selectReadOnly),
    readOnlyOn: q(sql.readOnlyOn),
    readOnlyOff: q(sql.readOnlyOff),
    showReplicaStatus: q(sql.showReplicaStatus),
    receivedColumn: sql.receivedColumn,
    sqlRunningColumn: sql.sqlRunningColumn,
    ioRunningColumn: sql.ioRunningColumn,
    lastSqlErrnoColumn: sql.lastSqlErrnoColumn,
    lastIoErrnoColumn: sql.lastIoErrnoColumn,
    waitApplied: q(sql.waitApplied),
    unsentBinlogCount: q(sql.unsentBinlogCount),
    selectBinlogPosition: q(sql.selectBinlogPosition),
    restartReplicaIo: q(sql.restartReplicaIo),
    stopReplicaIo: q(sql.stopReplicaIo),
    startReplicaIo: q(sql.startReplicaIo),
    restartReplica: q(sql.restartReplica),
    readFileColumn: sql.readFileColumn,
    readPosColumn: sql.readPosColumn,
    execFileColumn: sql.execFileColumn,
    execPosColumn: sql.execPosColumn,
    selectHealth: q(sql.selectHealth),
    semiSync: sql.semiSync,
    peerDumpConnectionIds: q(literalSql(replicaDumpConnectionIds(peer.address))),
    serverProcess: serverProcessName(inv.mysql.flavor),
    clientConnectionIds: q(literalSql(clientConnectionIds(duetAccounts(inv.ssh.user)))),
    grantWriterRole: q(grantWriterRole(node, peer).map(literalSql).join('; ')),
  };
}

function monitorScript(inv: Inventory, pair: PairSpec, node: NodeSpec): DesiredFile {
  const { failover, heartbeat } = pair;
  return rootFile({
    path: MONITOR_PATH,
    template: 'duet-monitor',
    mode: 0o755,
    service: 'heartbeat',
    context: {
      ...roleScriptContext(inv, pair, node),
      interval: failover.monitorInterval,
      failures: failover.monitorFailures,
      flapWindow: failover.flapWindow,
      deadtime: heartbeat.deadtime,
      maintenancePath: MAINTENANCE_PATH,
      hbStandby: HB_STANDBY,
      haresourcesPath: HARESOURCES_PATH,
      writerResource: WRITER_RESOURCE,
    },
  });
}

function writerResource(inv: Inventory, pair: PairSpec, node: NodeSpec): DesiredFile {
  return rootFile({
    path: WRITER_RESOURCE_PATH,
    template: 'duet-writer',
    mode: 0o755,
    service: 'heartbeat',
    context: {
      ...roleScriptContext(inv, pair, node),
      applyTimeout: WRITER_APPLY_TIMEOUT_SECONDS,
      sendTimeout: WRITER_SEND_TIMEOUT_SECONDS,
      pairName: pair.name,
      failoverHook: shellQuote(inv.hooks?.postFailover?.run ?? ''),
      failoverHookTimeout: inv.hooks?.postFailover?.timeoutSeconds ?? 30,
    },
  });
}

// The SQL duet speaks, per server flavor. Pure: statements are data, so both spellings are unit-tested
// without a server. Values are `?` placeholders filled by the driver's escaping (a Secret is revealed
// only there): CHANGE MASTER and CREATE USER cannot be server-side prepared, so the placeholders are
// client-side, but no value is ever pasted into SQL text by duet.
import { HostStateError } from '../errors.ts';
import type { Flavor } from '../inventory/model.ts';
import { Secret } from '../inventory/secret.ts';
import { DUET_SCHEMA } from '../inventory/validate.ts';
import { format } from 'mysql2/promise';
import { createHash, timingSafeEqual } from 'node:crypto';

export type SqlValue = string | number | Secret;

export interface SqlStatement {
  sql: string;
  params: SqlValue[];
}

export interface ServerVersion {
  major: number;
  minor: number;
  patch: number;
  /** As the server reports it, e.g. "10.11.19-MariaDB-0+deb12u1-log". */
  text: string;
}

/** How SHOW REPLICA STATUS reports the GTID mode that changeSource sets (see ReplicaStatus.usingGtid). */
export type GtidMode = 'no' | 'slave_pos' | 'current_pos' | 'auto_position';

export interface ChangeSourceOptions {
  host: string;
  port: number;
  user: string;
  password: Secret;
  useGtid: boolean;
  /** Seconds between reconnection attempts of the replica's I/O thread. */
  connectRetrySeconds?: number;
  /**
   * TLS to the source: files on the replica's host (the CA that signed the source's certificate, and
   * the replica's own certificate and key, which it presents), the source's certificate verified
   * against the CA and MASTER_HOST. Without it, the connection is in clear text.
   */
  tls?: ReplicaTlsFiles | undefined;
}

export interface ReplicaTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** user@host, both quoted by the driver. */
export interface Account {
  user: string;
  host: string;
}

export interface Dialect {
  readonly flavor: Flavor;
  readonly version: ServerVersion;
  /** The GTID mode changeSource({useGtid: true}) configures. */
  readonly gtidMode: GtidMode;
  /**
   * One row: version, server_id, read_only, gtid_current (what this server has applied),
   * gtid_binlog (what it has written to its binlog: the position a peer waits for).
   */
  readonly instanceVariables: string;
  /**
   * One row: server_id, log_bin, log_replica_updates, binlog_format, auto_increment_increment,
   * auto_increment_offset, gtid_domain_id (NULL on MySQL, which has no GTID domains).
   */
  readonly replicationSettings: string;
  readonly showReplicaStatus: string;
  /** Current binlog file and position (File, Position). */
  readonly showBinaryLogStatus: string;
  readonly startReplica: string;
  readonly stopReplica: string;
  changeSource(opts: ChangeSourceOptions): SqlStatement;
  /** One row with column `reached`: 1 when the replica applied `position`, 0 on timeout. */
  waitForGtid(position: string, timeoutSeconds: number): SqlStatement;
  setReadOnly(on: boolean): string;
  /** One row, one value: the replicas whose acknowledgement this server's commits wait for (semi-sync); undefined where duet does not use semi-sync. */
  readonly semiSyncReplicas?: string;
  /**
   * Grantees that may still write while read_only is on (one column, GRANTEE), or undefined when the
   * flavor's read-only mode admits nobody (MySQL's super_read_only).
   */
  readonly readOnlyBypassGrantees: string | undefined;
  /** Session-only: keeps user management out of the binlog so each node's users stay its own. */
  readonly binlogOff: string;
  readonly binlogOn: string;
  createUser(account: Account, password: Secret): SqlStatement;
  setPassword(account: Account, password: Secret): SqlStatement;
  grantReplication(account: Account): SqlStatement;
  /**
   * What the peer's resource script and monitor need on this server to fence it: set read_only, kill
   * client connections, list them, read the replica status. Nothing that reads or writes data.
   */
  grantFence(account: Account): SqlStatement;
  /** SHOW GRANTS lines a fence account may have (USAGE and grantFence's). */
  readonly fenceGrantPattern: RegExp;
  showGrants(account: Account): SqlStatement;
  /**
   * One row when the account exists, none otherwise: ssl_type ('', ANY, X509 or SPECIFIED) and the
   * stored credential (plugin, authentication_string: see storedPasswordMatches).
   */
  findAccount(account: Account): SqlStatement;
  /** A locked account without privileges whose password nobody knows (it only lets a connection be greeted). */
  createLockedUser(account: Account, unusable: Secret): SqlStatement;
  /** Logins of the account must use TLS with a client certificate signed by the server's CA (ssl_ca). */
  requireX509(account: Account): SqlStatement;
  /**
   * Accounts (columns user, host) that can log in from more than one address: a host of '%', any
   * host with a '%' or '_' wildcard, or an empty host (which means '%'). Roles are not accounts.
   */
  readonly wildcardAccounts: string;
}

/**
 * Run on every session right after login, before any other statement: the session's own parsing
 * rules, whatever the server's defaults (mysql.settings refuses sql_mode, but a server may be set up
 * by other hands). The driver fills `?` placeholders on the client side and escapes with backslashes;
 * under the server's NO_BACKSLASH_ESCAPES a quote in a value (a password) would end its string
 * literal and the rest would be parsed as SQL, and ANSI_QUOTES changes what a quote means. So the
 * session gets an explicit mode without either (the strictness both flavors default to), and the
 * connection character set the driver escapes for: in a multi-byte set such as GBK an escaping
 * backslash can be swallowed into the character before it.
 */
export const SESSION_SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';
export const sessionSetup: readonly string[] = [`SET SESSION sql_mode = '${SESSION_SQL_MODE}'`, 'SET NAMES utf8mb4'];

/** Asked after sessionSetup: the server's version (which picks the dialect). */
export const selectVersion = 'SELECT @@version AS version';

const DEFAULT_CONNECT_RETRY_SECONDS = 10;

/** Each flavor's word for the replica in START/STOP statements. */
const REPLICA_WORD: Record<Flavor, string> = { mariadb: 'SLAVE', mysql: 'REPLICA' };

/** START or STOP of the replica threads (both, or one), as the flavor spells it. */
export function replicaThreads(flavor: Flavor, action: 'START' | 'STOP', thread?: 'IO_THREAD' | 'SQL_THREAD'): string {
  return `${action} ${REPLICA_WORD[flavor]}${thread ? ` ${thread}` : ''}`;
}

/** One value, column `@@read_only`: 1 while the server is read-only. */
export const selectReadOnly = 'SELECT @@read_only';

/** Parses "10.11.19-MariaDB-0+deb12u1-log" or "8.0.36" / "8.4.2-log". */
export function parseVersion(text: string): ServerVersion {
  // MariaDB 10.x announces itself as "5.5.5-10.x.y-MariaDB" in the protocol handshake (so old
  // replicas do not mistake 10 for 1.0); @@version does not, but accept both.
  const match = /^(?:5\.5\.5-(?=\d+\.\d+\.\d+-MariaDB))?(\d+)\.(\d+)\.(\d+)/i.exec(text);
  if (!match) throw new HostStateError(`cannot understand the server version "${text}"`);
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), text };
}

function atLeast(v: ServerVersion, major: number, minor: number, patch: number): boolean {
  return v.major !== major ? v.major > major : v.minor !== minor ? v.minor > minor : v.patch >= patch;
}

/** The dialect for a server, from SELECT @@version. */
export function dialectFor(versionText: string): Dialect {
  const version = parseVersion(versionText);
  if (/mariadb/i.test(versionText)) {
    if (!atLeast(version, 10, 5, 0)) {
      throw new HostStateError(`MariaDB ${version.text} is too old`, { hint: 'duet needs MariaDB 10.5 or newer' });
    }
    return mariadb(version);
  }
  if (!atLeast(version, 8, 0, 23)) {
    throw new HostStateError(`MySQL ${version.text} is too old`, {
      hint: 'duet needs MySQL 8.0.23 or newer (CHANGE REPLICATION SOURCE TO)',
    });
  }
  return mysql(version);
}

/** LOCATE, not LIKE: no escape character whose meaning depends on the session's sql_mode. */
const WILDCARD_HOST = "(Host = '' OR LOCATE('%', Host) > 0 OR LOCATE('_', Host) > 0)";

const accountStatements = {
  createUser: (a: Account, password: Secret): SqlStatement => ({ sql: 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', params: [a.user, a.host, password] }),
  setPassword: (a: Account, password: Secret): SqlStatement => ({ sql: 'ALTER USER ?@? IDENTIFIED BY ?', params: [a.user, a.host, password] }),
  grantReplication: (a: Account): SqlStatement => ({ sql: 'GRANT REPLICATION SLAVE ON *.* TO ?@?', params: [a.user, a.host] }),
  showGrants: (a: Account): SqlStatement => ({ sql: 'SHOW GRANTS FOR ?@?', params: [a.user, a.host] }),
  findAccount: (a: Account): SqlStatement => ({ sql: 'SELECT ssl_type, plugin, authentication_string FROM mysql.user WHERE User = ? AND Host = ?', params: [a.user, a.host] }),
  createLockedUser: (a: Account, unusable: Secret): SqlStatement => ({ sql: 'CREATE USER ?@? IDENTIFIED BY ? ACCOUNT LOCK', params: [a.user, a.host, unusable] }),
  requireX509: (a: Account): SqlStatement => ({ sql: 'ALTER USER ?@? REQUIRE X509', params: [a.user, a.host] }),
  binlogOff: 'SET SESSION sql_log_bin = 0',
  binlogOn: 'SET SESSION sql_log_bin = 1',
};

/**
 * The TLS options of CHANGE MASTER / CHANGE REPLICATION SOURCE: on with the files and verification of
 * the source's certificate, or explicitly off (empty files), so a replica never keeps old settings.
 */
function tlsClause(prefix: 'MASTER' | 'SOURCE', tls: ReplicaTlsFiles | undefined): string {
  return (
    `${prefix}_SSL = ${tls ? 1 : 0}, ${prefix}_SSL_CA = ?, ${prefix}_SSL_CERT = ?, ${prefix}_SSL_KEY = ?, ` +
    `${prefix}_SSL_VERIFY_SERVER_CERT = ${tls ? 1 : 0}`
  );
}

function tlsParams(tls: ReplicaTlsFiles | undefined): string[] {
  return tls ? [tls.ca, tls.cert, tls.key] : ['', '', ''];
}

/** Makes a running server read its certificate files again (ssl_ca, ssl_cert, ssl_key). */
export function reloadTlsStatement(flavor: Flavor): string {
  return flavor === 'mariadb' ? 'FLUSH SSL' : 'ALTER INSTANCE RELOAD TLS';
}

function mariadb(version: ServerVersion): Dialect {
  return {
    flavor: 'mariadb',
    version,
    // slave_pos: resume from what this server applied as a replica. Each node writes its own GTID
    // domain, so its own writes never need to come back to it.
    gtidMode: 'slave_pos',
    instanceVariables:
      'SELECT @@version AS version, @@server_id AS server_id, @@read_only AS read_only, ' +
      '@@gtid_current_pos AS gtid_current, @@gtid_binlog_pos AS gtid_binlog',
    replicationSettings:
      'SELECT @@server_id AS server_id, @@log_bin AS log_bin, @@log_slave_updates AS log_replica_updates, ' +
      '@@binlog_format AS binlog_format, @@auto_increment_increment AS auto_increment_increment, ' +
      '@@auto_increment_offset AS auto_increment_offset, @@gtid_domain_id AS gtid_domain_id, ' +
      '@@gtid_strict_mode AS gtid_strict_mode, @@rpl_semi_sync_master_enabled AS semi_sync_source, @@rpl_semi_sync_slave_enabled AS semi_sync_replica, ' +
      '@@rpl_semi_sync_master_wait_point AS semi_sync_wait_point',
    showReplicaStatus: 'SHOW SLAVE STATUS',
    showBinaryLogStatus: 'SHOW MASTER STATUS',
    startReplica: replicaThreads('mariadb', 'START'),
    stopReplica: replicaThreads('mariadb', 'STOP'),
    changeSource: (o) => ({
      sql:
        'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, ' +
        `MASTER_USE_GTID = ${o.useGtid ? 'slave_pos' : 'no'}, MASTER_CONNECT_RETRY = ?, ` +
        tlsClause('MASTER', o.tls),
      params: [o.host, o.port, o.user, o.password, o.connectRetrySeconds ?? DEFAULT_CONNECT_RETRY_SECONDS, ...tlsParams(o.tls)],
    }),
    // MASTER_GTID_WAIT returns 0 when reached, -1 on timeout.
    waitForGtid: (position, timeoutSeconds) => ({ sql: 'SELECT MASTER_GTID_WAIT(?, ?) = 0 AS reached', params: [position, timeoutSeconds] }),
    setReadOnly: (on) => `SET GLOBAL read_only = ${on ? 'ON' : 'OFF'}`,
    semiSyncReplicas: "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS'",
    // MariaDB has no super_read_only. Since 10.11 (MDEV-29596) SUPER no longer implies READ_ONLY
    // ADMIN, so that privilege alone is the bypass; before, SUPER carried it too.
    readOnlyBypassGrantees:
      "SELECT DISTINCT GRANTEE FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN " +
      (atLeast(version, 10, 11, 0) ? "('READ_ONLY ADMIN')" : "('READ_ONLY ADMIN', 'SUPER')"),
    grantFence: (a) => ({ sql: 'GRANT READ_ONLY ADMIN, CONNECTION ADMIN, PROCESS, SLAVE MONITOR ON *.* TO ?@?', params: [a.user, a.host] }),
    fenceGrantPattern: /^GRANT (USAGE|((PROCESS|SLAVE MONITOR|CONNECTION ADMIN|READ_ONLY ADMIN)(, )?)+) ON \*\.\* TO /,
    // mysql.user is a view over global_priv that also lists roles (is_role = 'Y', host '').
    wildcardAccounts: `SELECT User AS user, Host AS host FROM mysql.user WHERE is_role = 'N' AND ${WILDCARD_HOST} ORDER BY User, Host`,
    ...accountStatements,
  };
}

function mysql(version: ServerVersion): Dialect {
  return {
    flavor: 'mysql',
    version,
    gtidMode: 'auto_position',
    // gtid_executed is both what was applied and (with log_replica_updates) what a peer can fetch.
    instanceVariables:
      'SELECT @@version AS version, @@server_id AS server_id, @@read_only AS read_only, ' +
      '@@gtid_executed AS gtid_current, @@gtid_executed AS gtid_binlog',
    // log_replica_updates replaced log_slave_updates in 8.0.26.
    replicationSettings:
      `SELECT @@server_id AS server_id, @@log_bin AS log_bin, @@${atLeast(version, 8, 0, 26) ? 'log_replica_updates' : 'log_slave_updates'} AS log_replica_updates, ` +
      '@@binlog_format AS binlog_format, @@auto_increment_increment AS auto_increment_increment, ' +
      '@@auto_increment_offset AS auto_increment_offset, NULL AS gtid_domain_id',
    showReplicaStatus: 'SHOW REPLICA STATUS',
    // SHOW MASTER STATUS is gone in 8.4; its replacement exists since 8.2.
    showBinaryLogStatus: atLeast(version, 8, 2, 0) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS',
    startReplica: replicaThreads('mysql', 'START'),
    stopReplica: replicaThreads('mysql', 'STOP'),
    changeSource: (o) => ({
      sql:
        'CHANGE REPLICATION SOURCE TO SOURCE_HOST = ?, SOURCE_PORT = ?, SOURCE_USER = ?, SOURCE_PASSWORD = ?, ' +
        `SOURCE_AUTO_POSITION = ${o.useGtid ? 1 : 0}, SOURCE_CONNECT_RETRY = ?, ` +
        // caching_sha2_password (the 8.x default) over a non-TLS link needs the source's RSA key.
        'GET_SOURCE_PUBLIC_KEY = 1, ' +
        tlsClause('SOURCE', o.tls),
      params: [o.host, o.port, o.user, o.password, o.connectRetrySeconds ?? DEFAULT_CONNECT_RETRY_SECONDS, ...tlsParams(o.tls)],
    }),
    // WAIT_FOR_EXECUTED_GTID_SET returns 0 when reached, 1 on timeout.
    waitForGtid: (position, timeoutSeconds) => ({
      sql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) = 0 AS reached',
      params: [position, timeoutSeconds],
    }),
    // super_read_only also stops SUPER/CONNECTION_ADMIN users, and implies read_only; clearing
    // read_only clears it as well.
    setReadOnly: (on) => (on ? 'SET GLOBAL super_read_only = ON' : 'SET GLOBAL read_only = OFF'),
    readOnlyBypassGrantees: undefined,
    grantFence: (a) => ({ sql: 'GRANT SYSTEM_VARIABLES_ADMIN, CONNECTION_ADMIN, PROCESS, REPLICATION CLIENT ON *.* TO ?@?', params: [a.user, a.host] }),
    fenceGrantPattern: /^GRANT (USAGE|((PROCESS|REPLICATION CLIENT|CONNECTION_ADMIN|SYSTEM_VARIABLES_ADMIN)(, ?)?)+) ON \*\.\* TO /,
    // MySQL keeps roles in mysql.user as locked accounts (host '%' by default); a locked account
    // cannot log in from anywhere.
    wildcardAccounts: `SELECT User AS user, Host AS host FROM mysql.user WHERE account_locked = 'N' AND ${WILDCARD_HOST} ORDER BY User, Host`,
    ...accountStatements,
  };
}

// ---- Operating the pair: the writable role, client connections, duet's topology table. ----
// Flavor-level (no server version needed), so they also serve the Heartbeat resource script, which
// is rendered from the inventory before any server is asked.

/** A node as the topology table records it. */
export interface TopologyNode {
  name: string;
  address: string;
}

/** The table clients ask who the writer is: one row per node (DDL in duet-schema.ts). */
export const TOPOLOGY_TABLE = 'topology';

/** Makes duet the session's default database, which binlog_do_db filters statement-logged changes by. */
export const useDuetSchema = `USE ${DUET_SCHEMA}`;

/** Every row of duet's topology table: node, address, role ('writer' | 'reader'), epoch. */
export const selectTopology = `SELECT node, address, role, epoch FROM ${DUET_SCHEMA}.${TOPOLOGY_TABLE} ORDER BY node`;

/**
 * Records `writer` as the writer and `reader` as the reader at a new write-role epoch, one more than
 * any this node has seen. Two statements for one session (the user variable carries the epoch); run
 * them on the node that becomes the writer, binlog on and `duet` as the default database, so the rows
 * replicate (binlog_do_db filters statement-logged changes by the default database).
 */
export function grantWriterRole(writer: TopologyNode, reader: TopologyNode): SqlStatement[] {
  return [
    { sql: `SET @duet_epoch = (SELECT COALESCE(MAX(epoch), 0) + 1 FROM ${DUET_SCHEMA}.${TOPOLOGY_TABLE})`, params: [] },
    {
      sql:
        `INSERT INTO ${DUET_SCHEMA}.${TOPOLOGY_TABLE} (node, address, role, epoch) VALUES (?, ?, 'writer', @duet_epoch), (?, ?, 'reader', @duet_epoch) ` +
        'ON DUPLICATE KEY UPDATE address = VALUES(address), role = VALUES(role), epoch = VALUES(epoch)',
      params: [writer.name, writer.address, reader.name, reader.address],
    },
  ];
}

/**
 * The accounts duet logs in as over the local socket: root (the Heartbeat resource script) and the
 * SSH user (every duet command). A freeze never kills their sessions or locks them.
 */
export function duetAccounts(sshUser: string): Account[] {
  return [...new Set(['root', sshUser])].map((user) => ({ user, host: 'localhost' }));
}

/** Threads that serve or run replication: a freeze never kills them. */
const REPLICATION_COMMANDS = "'Binlog Dump', 'Binlog Dump GTID', 'Slave_IO', 'Slave_SQL', 'Slave_worker', 'Daemon'";

/**
 * Client connections (one column, ID): every session except this one, replication and system
 * threads, and sessions of the `exempt` accounts over the local socket (duet's own logins, whose
 * PROCESSLIST host is exactly 'localhost').
 */
export function clientConnectionIds(exempt: Account[]): SqlStatement {
  return clientConnectionsWith('ID', exempt);
}

/** The binlog dump connections of the replica at ADDRESS (one column, ID): what a semi-sync source waits on. */
export function replicaDumpConnectionIds(address: string): SqlStatement {
  return { sql: "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID') AND HOST LIKE ?", params: [`${address}:%`] };
}

/** The same connections with what each is doing (ID, COMMAND: 'Sleep' for an idle one). */
export function clientConnectionCommands(exempt: Account[]): SqlStatement {
  return clientConnectionsWith('ID, COMMAND', exempt);
}

function clientConnectionsWith(columns: string, exempt: Account[]): SqlStatement {
  return {
    sql:
      `SELECT ${columns} FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN (${REPLICATION_COMMANDS}) ` +
      "AND USER NOT IN ('system user', 'event_scheduler')" +
      exempt.map(() => ' AND NOT (USER = ? AND HOST = ?)').join(''),
    params: exempt.flatMap((a) => [a.user, a.host]),
  };
}

/** The drill's client: it writes and reads the drill table of duet's schema, nothing else. */
export function grantDrill(account: Account, table: string): SqlStatement {
  return { sql: `GRANT SELECT, INSERT ON ${DUET_SCHEMA}.${table} TO ?@?`, params: [account.user, account.host] };
}

export function dropUser(account: Account): SqlStatement {
  return { sql: 'DROP USER IF EXISTS ?@?', params: [account.user, account.host] };
}

export function killConnection(id: number): SqlStatement {
  return { sql: 'KILL CONNECTION ?', params: [id] };
}

/** Locks or unlocks an account: existing sessions stay, new logins are refused while locked. */
export function lockAccount(account: Account, locked: boolean): SqlStatement {
  return { sql: `ALTER USER ?@? ACCOUNT ${locked ? 'LOCK' : 'UNLOCK'}`, params: [account.user, account.host] };
}

/** Accounts that are locked now (columns user, host). */
export function lockedAccounts(flavor: Flavor): string {
  return flavor === 'mariadb'
    ? // JSON_VALUE gives a JSON true as '1' (MariaDB 10.11); 'true' in case a version spells it out.
      "SELECT User AS user, Host AS host FROM mysql.global_priv WHERE JSON_VALUE(Priv, '$.account_locked') IN ('1', 'true')"
    : "SELECT User AS user, Host AS host FROM mysql.user WHERE account_locked = 'Y'";
}

/**
 * What the Heartbeat resource script (templates/duet-writer.hbs) runs through the command-line
 * client. `waitApplied` is a printf format: the received GTID set, then the timeout in seconds; it
 * prints 1 once the set is applied, 0 on timeout.
 */
export interface WriterRoleScriptSql {
  client: string;
  /**
   * The client for the local server's unix socket, without TLS: it protects nothing there, and
   * negotiating it (the client does as soon as the server has a certificate) is most of what a probe
   * costs the host's CPU (29 of 46 ms per monitor probe, measured).
   */
  localClient: string;
  selectReadOnly: string;
  readOnlyOn: string;
  readOnlyOff: string;
  showReplicaStatus: string;
  /** Columns of showReplicaStatus: the GTIDs received from the source, and whether the applier runs. */
  receivedColumn: string;
  sqlRunningColumn: string;
  waitApplied: string;
  /** One value: binlog dump threads that have not yet sent the whole binlog to their replica. */
  unsentBinlogCount: string;
  /** One value: what this server has written to its binlog (the position a peer waits for). */
  selectBinlogPosition: string;
  /** Columns of showReplicaStatus: whether the I/O thread is connected, the applier's last error number. */
  ioRunningColumn: string;
  lastSqlErrnoColumn: string;
  lastIoErrnoColumn: string;
  /** Reconnects the replica's I/O thread now instead of after its retry interval. */
  restartReplicaIo: string;
  /** Closes the replica's connection to its source (the I/O thread stops), and opens it again. */
  stopReplicaIo: string;
  startReplicaIo: string;
  /**
   * Both threads stop (the applier rolling back a transaction whose end never arrived) and start
   * again. On MariaDB in GTID mode that start discards the relay log and asks the source for what
   * follows the applied position.
   */
  restartReplica: string;
  /**
   * Columns of showReplicaStatus: the source's binlog file and position the I/O thread has read up
   * to, and those of the end of the last transaction the applier applied.
   */
  readFileColumn: string;
  readPosColumn: string;
  execFileColumn: string;
  execPosColumn: string;
  /**
   * One row: read_only (0/1), the server's uptime in seconds (lower than before: it restarted) and,
   * on MariaDB, whether both replica threads run (ON/OFF).
   */
  selectHealth: string;
  /** Semi-synchronous replication (templates/my.cnf.hbs): MariaDB only (MySQL needs plugins duet does not install). */
  semiSync: boolean;
}

/**
 * Whether an account's stored credential (findAccount's row) is `password`'s, where the plugin
 * makes that computable without a login: mysql_native_password stores "*" and the hex of
 * SHA1(SHA1(password)). undefined for any other plugin (salted hashes: ask by logging in).
 */
export function storedPasswordMatches(plugin: string, stored: string, password: Secret): boolean | undefined {
  if (plugin !== 'mysql_native_password' || !/^\*[0-9A-F]{40}$/.test(stored)) return undefined;
  const inner = createHash('sha1').update(password.reveal(), 'utf8').digest();
  const expected = Buffer.from(`*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`);
  return timingSafeEqual(expected, Buffer.from(stored));
}

/** The server's process name (pidof, kill). */
export function serverProcessName(flavor: Flavor): 'mariadbd' | 'mysqld' {
  return flavor === 'mariadb' ? 'mariadbd' : 'mysqld';
}

function replicaControl(flavor: Flavor): Pick<WriterRoleScriptSql, 'restartReplicaIo' | 'stopReplicaIo' | 'startReplicaIo' | 'restartReplica'> {
  const stopReplicaIo = replicaThreads(flavor, 'STOP', 'IO_THREAD');
  const startReplicaIo = replicaThreads(flavor, 'START', 'IO_THREAD');
  return {
    restartReplicaIo: `${stopReplicaIo}; ${startReplicaIo}`,
    stopReplicaIo,
    startReplicaIo,
    restartReplica: `${replicaThreads(flavor, 'STOP')}; ${replicaThreads(flavor, 'START')}`,
  };
}

export function writerRoleScriptSql(flavor: Flavor): WriterRoleScriptSql {
  const common = {
    selectReadOnly,
    lastSqlErrnoColumn: 'Last_SQL_Errno',
    lastIoErrnoColumn: 'Last_IO_Errno',
    readOnlyOff: 'SET GLOBAL read_only = OFF',
    unsentBinlogCount:
      "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID') AND STATE NOT LIKE '%has sent all binlog to%'",
  };
  return flavor === 'mariadb'
    ? {
        ...common,
        client: 'mariadb',
        localClient: 'mariadb --skip-ssl',
        readOnlyOn: 'SET GLOBAL read_only = ON',
        showReplicaStatus: 'SHOW SLAVE STATUS',
        receivedColumn: 'Gtid_IO_Pos',
        sqlRunningColumn: 'Slave_SQL_Running',
        waitApplied: "SELECT MASTER_GTID_WAIT('%s', %s) = 0",
        selectBinlogPosition: 'SELECT @@gtid_binlog_pos',
        ioRunningColumn: 'Slave_IO_Running',
        readFileColumn: 'Master_Log_File',
        readPosColumn: 'Read_Master_Log_Pos',
        execFileColumn: 'Relay_Master_Log_File',
        execPosColumn: 'Exec_Master_Log_Pos',
        ...replicaControl('mariadb'),
        selectHealth:
          "SELECT @@read_only, VARIABLE_VALUE, (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SLAVE_RUNNING') FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'",
        semiSync: true,
      }
    : {
        ...common,
        client: 'mysql',
        localClient: 'mysql --ssl-mode=DISABLED',
        readOnlyOn: 'SET GLOBAL super_read_only = ON',
        showReplicaStatus: 'SHOW REPLICA STATUS',
        receivedColumn: 'Retrieved_Gtid_Set',
        sqlRunningColumn: 'Replica_SQL_Running',
        waitApplied: "SELECT WAIT_FOR_EXECUTED_GTID_SET('%s', %s) = 0",
        selectBinlogPosition: 'SELECT @@gtid_executed',
        ioRunningColumn: 'Replica_IO_Running',
        readFileColumn: 'Source_Log_File',
        readPosColumn: 'Read_Source_Log_Pos',
        execFileColumn: 'Relay_Source_Log_File',
        execPosColumn: 'Exec_Source_Log_Pos',
        ...replicaControl('mysql'),
        selectHealth: "SELECT @@read_only, VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Uptime'",
        semiSync: false,
      };
}

/**
 * A statement as literal SQL text, values inlined with the driver's escaping: for SQL that must live
 * in a file (the resource script). Refuses secrets, which must never be written into a file.
 */
export function literalSql(statement: SqlStatement): string {
  const values = statement.params.map((p) => {
    if (p instanceof Secret) throw new Error(`literalSql: a secret parameter in ${statement.sql}`);
    return p;
  });
  return format(statement.sql, values);
}

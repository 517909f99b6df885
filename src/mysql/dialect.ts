// The SQL duet speaks, per server flavor. Pure: statements are data, so both spellings are unit-tested
// without a server. Values are `?` placeholders filled by the driver's escaping (a Secret is revealed
// only there): CHANGE MASTER and CREATE USER cannot be server-side prepared, so the placeholders are
// client-side, but no value is ever pasted into SQL text by duet.
import { HostStateError } from '../errors.ts';
import type { Flavor } from '../inventory/model.ts';
import type { Secret } from '../inventory/secret.ts';

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
  readonly showReplicaStatus: string;
  /** Current binlog file and position (File, Position). */
  readonly showBinaryLogStatus: string;
  readonly startReplica: string;
  readonly stopReplica: string;
  changeSource(opts: ChangeSourceOptions): SqlStatement;
  /** One row with column `reached`: 1 when the replica applied `position`, 0 on timeout. */
  waitForGtid(position: string, timeoutSeconds: number): SqlStatement;
  setReadOnly(on: boolean): string;
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
  showGrants(account: Account): SqlStatement;
  /** Rows when the account exists, none otherwise. */
  findAccount(account: Account): SqlStatement;
}

const DEFAULT_CONNECT_RETRY_SECONDS = 10;

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

const accountStatements = {
  createUser: (a: Account, password: Secret): SqlStatement => ({ sql: 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', params: [a.user, a.host, password] }),
  setPassword: (a: Account, password: Secret): SqlStatement => ({ sql: 'ALTER USER ?@? IDENTIFIED BY ?', params: [a.user, a.host, password] }),
  grantReplication: (a: Account): SqlStatement => ({ sql: 'GRANT REPLICATION SLAVE ON *.* TO ?@?', params: [a.user, a.host] }),
  showGrants: (a: Account): SqlStatement => ({ sql: 'SHOW GRANTS FOR ?@?', params: [a.user, a.host] }),
  findAccount: (a: Account): SqlStatement => ({ sql: 'SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', params: [a.user, a.host] }),
  binlogOff: 'SET SESSION sql_log_bin = 0',
  binlogOn: 'SET SESSION sql_log_bin = 1',
};

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
    showReplicaStatus: 'SHOW SLAVE STATUS',
    showBinaryLogStatus: 'SHOW MASTER STATUS',
    startReplica: 'START SLAVE',
    stopReplica: 'STOP SLAVE',
    changeSource: (o) => ({
      sql:
        'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, ' +
        `MASTER_USE_GTID = ${o.useGtid ? 'slave_pos' : 'no'}, MASTER_CONNECT_RETRY = ?`,
      params: [o.host, o.port, o.user, o.password, o.connectRetrySeconds ?? DEFAULT_CONNECT_RETRY_SECONDS],
    }),
    // MASTER_GTID_WAIT returns 0 when reached, -1 on timeout.
    waitForGtid: (position, timeoutSeconds) => ({ sql: 'SELECT MASTER_GTID_WAIT(?, ?) = 0 AS reached', params: [position, timeoutSeconds] }),
    setReadOnly: (on) => `SET GLOBAL read_only = ${on ? 'ON' : 'OFF'}`,
    // MariaDB has no super_read_only. Since 10.11 (MDEV-29596) SUPER no longer implies READ_ONLY
    // ADMIN, so that privilege alone is the bypass; before, SUPER carried it too.
    readOnlyBypassGrantees:
      "SELECT DISTINCT GRANTEE FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN " +
      (atLeast(version, 10, 11, 0) ? "('READ_ONLY ADMIN')" : "('READ_ONLY ADMIN', 'SUPER')"),
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
    showReplicaStatus: 'SHOW REPLICA STATUS',
    // SHOW MASTER STATUS is gone in 8.4; its replacement exists since 8.2.
    showBinaryLogStatus: atLeast(version, 8, 2, 0) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS',
    startReplica: 'START REPLICA',
    stopReplica: 'STOP REPLICA',
    changeSource: (o) => ({
      sql:
        'CHANGE REPLICATION SOURCE TO SOURCE_HOST = ?, SOURCE_PORT = ?, SOURCE_USER = ?, SOURCE_PASSWORD = ?, ' +
        `SOURCE_AUTO_POSITION = ${o.useGtid ? 1 : 0}, SOURCE_CONNECT_RETRY = ?, ` +
        // caching_sha2_password (the 8.x default) over a non-TLS link needs the source's RSA key.
        'GET_SOURCE_PUBLIC_KEY = 1',
      params: [o.host, o.port, o.user, o.password, o.connectRetrySeconds ?? DEFAULT_CONNECT_RETRY_SECONDS],
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
    ...accountStatements,
  };
}

// Talking to a node's MySQL/MariaDB through its SSH connection: the protocol runs over an SSH channel
// to mysqld's unix socket, so port 3306 never has to be reachable by the operator and no MySQL
// password is needed for the administrative login.
//
// Authentication, as proven against MariaDB 10.11.19 (Debian 12 package; test/integration-local):
// Debian's root@localhost is `IDENTIFIED VIA mysql_native_password USING 'invalid' OR unix_socket`.
// The server's peer on the forwarded socket is the sshd session process, which runs as the SSH user,
// so SO_PEERCRED yields that user's uid. The handshake needs no help from the client: the server
// offers mysql_native_password, whatever the client answers fails against 'invalid', and the server
// silently falls through to unix_socket, which never sends an auth-switch request (its socket_auth()
// reads a packet only when the user name is not yet known, and it has no client-side plugin). So
// mysql2 needs no authPlugins entry and no password; the MySQL user must simply be the SSH user's
// name: root over SSH as root. A non-root SSH user gets "Access denied" for root, by design.
import { randomBytes } from 'node:crypto';
import { createConnection, escapeId, type Connection, type RowDataPacket } from 'mysql2/promise';
import { HostStateError, ReplicationError, SqlError, TransportError } from '../errors.ts';
import { Secret } from '../inventory/secret.ts';
import { trace, traceSql } from '../trace.ts';
import type { SshConnection } from '../transport/ssh.ts';
import { dialectFor, selectVersion, sessionSetup, storedPasswordMatches, type Account, type ChangeSourceOptions, type Dialect, type SqlStatement } from './dialect.ts';
import { parseInstanceState, parseReplicaStatus, replicaError, type InstanceState, type ReplicaStatus } from './model.ts';

export const DEFAULT_SOCKET = '/run/mysqld/mysqld.sock';

export interface MysqlSession {
  /** Node name, the `host` of every error. */
  readonly node: string;
  readonly dialect: Dialect;
  readonly connection: Connection;
}

export interface ConnectOptions {
  socketPath?: string;
  /** MySQL account; unix_socket authentication requires it to be the SSH login user. */
  user?: string;
}

export async function connectOverSsh(ssh: SshConnection, opts: ConnectOptions = {}): Promise<MysqlSession> {
  const node = ssh.target.name;
  const socketPath = opts.socketPath ?? DEFAULT_SOCKET;
  const user = opts.user ?? ssh.user;
  const stream = await ssh.streamLocal(socketPath);
  let connection: Connection;
  try {
    connection = await createConnection({ stream, user, supportBigNumbers: true, bigNumberStrings: true });
  } catch (err) {
    stream.destroy();
    throw new HostStateError(`cannot log in to MySQL as ${user} through ${socketPath}: ${(err as Error).message}`, {
      host: node,
      cause: err,
      hint: `duet logs in via unix_socket as the SSH user; ${user}@localhost must be IDENTIFIED VIA unix_socket (Debian's default for root)`,
    });
  }
  // A lost channel surfaces as a failed query; without a listener the 'error' event would crash us.
  connection.on('error', () => {});
  return openSession(connection, node);
}

/**
 * Makes a logged-in connection a session: the session's parsing rules first (sessionSetup: before
 * any statement that carries a value), then the server's version for the dialect.
 */
export async function openSession(connection: Connection, node: string): Promise<MysqlSession> {
  let statement = '';
  try {
    for (statement of sessionSetup) await connection.query(statement);
    statement = selectVersion;
    const [rows] = await connection.query<RowDataPacket[]>(selectVersion);
    return { node, dialect: dialectFor(String(rows[0]?.version)), connection };
  } catch (err) {
    await connection.end().catch(() => connection.destroy());
    if (err instanceof HostStateError) throw new HostStateError(err.message, { host: node, hint: err.hint });
    throw sqlFailure(err, statement, node);
  }
}

/** Sends COM_QUIT and waits for the server to close; falls back to tearing the channel down. */
export async function closeSession(session: MysqlSession): Promise<void> {
  await session.connection.end().catch(() => session.connection.destroy());
}

/**
 * Runs one statement. Secret parameters are revealed here, at the last moment, and nowhere else.
 * When the statement carries a secret, a failure reports the server's error number only: the
 * server's text may quote part of the value (a password too long for MASTER_PASSWORD, a syntax error
 * near it), and no redaction can find a part of a secret.
 */
export async function query(session: MysqlSession, statement: SqlStatement | string): Promise<RowDataPacket[]> {
  const { sql, params } = typeof statement === 'string' ? { sql: statement, params: [] } : statement;
  trace(() => traceSql(session.node, sql, params));
  try {
    const [rows] = await session.connection.query(sql, params.map((p) => (p instanceof Secret ? p.reveal() : p)));
    return Array.isArray(rows) ? (rows as RowDataPacket[]) : [];
  } catch (err) {
    throw sqlFailure(err, sql, session.node, params.some((p) => p instanceof Secret));
  }
}

/**
 * mysql2's codes for a connection that is gone (not a statement the server rejected). mysql2 also
 * marks such errors `fatal` without a server errno ("Can't add new command when connection is in
 * closed state" has no code at all).
 */
const CONNECTION_LOST_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_DESTROYED']);
/** Server errors that end the session: MariaDB's ER_CONNECTION_KILLED, and the server shutting down. */
const SESSION_ENDED_ERRNOS = new Set([1927, 1053]);

/**
 * What a failed statement becomes: a TransportError (exit 3) when the connection to the server is
 * lost, decided by mysql2's error code and never by the message text, else an SqlError carrying
 * the server's errno/code/SQLSTATE. The SQL text holds only placeholders, so it is safe to show. No
 * `cause`: mysql2 errors carry the interpolated statement (err.sql), password included.
 */
export function sqlFailure(err: unknown, sql: string, node: string, carriesSecret = false): TransportError | SqlError {
  const e = (err ?? {}) as { message?: unknown; code?: unknown; errno?: unknown; sqlState?: unknown; fatal?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  // A statement with a secret: the server's text may quote part of it, so only the numbers are shown.
  const message = carriesSecret
    ? `${errno === undefined ? `${code ?? 'an error'} (no server error number)` : `server error ${errno}${code ? ` ${code}` : ''}`}; the server's message is not shown because the statement carries a secret`
    : String(e.message ?? err);
  const lost = (code !== undefined && CONNECTION_LOST_CODES.has(code)) || (errno !== undefined && SESSION_ENDED_ERRNOS.has(errno)) || (e.fatal === true && errno === undefined);
  if (lost) {
    return new TransportError(`the MySQL connection was lost during ${sql}${code ? ` (${code})` : ''}: ${message}`, {
      host: node,
      hint: 'the server restarted or the SSH connection dropped; check the server and run the command again',
    });
  }
  return new SqlError(`${sql} failed: ${message}`, {
    host: node,
    errno,
    code,
    sqlState: typeof e.sqlState === 'string' ? e.sqlState : undefined,
    ...(carriesSecret && errno !== undefined ? { hint: `perror ${errno} explains the number; the server's error log may say more` } : {}),
  });
}

export async function readReplicaStatus(session: MysqlSession): Promise<ReplicaStatus | undefined> {
  const [row] = await query(session, session.dialect.showReplicaStatus);
  return row && parseReplicaStatus(row);
}

export async function readInstanceState(session: MysqlSession): Promise<InstanceState> {
  const [variables] = await query(session, session.dialect.instanceVariables);
  const replicaRows = await query(session, session.dialect.showReplicaStatus);
  if (!variables) throw new HostStateError('the server returned no variables', { host: session.node });
  return parseInstanceState(variables, replicaRows, session.dialect.flavor);
}

export async function setReadOnly(session: MysqlSession, on: boolean): Promise<void> {
  await query(session, session.dialect.setReadOnly(on));
}

/** Accounts other than `except` that can write while read_only is on (none on MySQL: super_read_only). */
export async function readOnlyBypassers(session: MysqlSession, except: Account[] = []): Promise<string[]> {
  const sql = session.dialect.readOnlyBypassGrantees;
  if (sql === undefined) return [];
  const skip = new Set(except.map((a) => `'${a.user}'@'${a.host}'`));
  return (await query(session, sql)).map((r) => String(r.GRANTEE)).filter((g) => !skip.has(g));
}

/** Accounts that can log in from more than one address (see Dialect.wildcardAccounts). */
export async function readWildcardAccounts(session: MysqlSession): Promise<Account[]> {
  return (await query(session, session.dialect.wildcardAccounts)).map((r) => ({ user: String(r.user), host: String(r.host) }));
}

/**
 * Runs body with this session's changes kept out of the binlog (so they are not replicated), and
 * turns binary logging back on whatever happens: sessions are reused.
 */
export function withBinlogOff<T>(session: MysqlSession, body: () => Promise<T>): Promise<T> {
  return binlogOffAround(session.dialect, (sql) => query(session, sql), body);
}

/** withBinlogOff for a caller that runs its statements its own way (swap: traced, or only printed in a dry run). */
export async function binlogOffAround<T>(dialect: Pick<Dialect, 'binlogOff' | 'binlogOn'>, run: (sql: string) => Promise<unknown>, body: () => Promise<T>): Promise<T> {
  await run(dialect.binlogOff);
  try {
    return await body();
  } finally {
    await run(dialect.binlogOn);
  }
}

/** What duet grants each service account, and the SHOW GRANTS lines it may have (USAGE and those). */
export interface ServiceAccountKind {
  /** For messages: "REPLICATION SLAVE", "what fencing needs". */
  allowedText: string;
  grant(dialect: Dialect, account: Account): SqlStatement;
  allowed(dialect: Dialect): RegExp;
  /** Its logins must use TLS with a client certificate (the replication account, when the peers use TLS). */
  requireX509?: boolean;
}

/** The replication account: REPLICATION SLAVE only. */
export const REPLICATION_ACCOUNT: ServiceAccountKind = {
  allowedText: 'REPLICATION SLAVE',
  grant: (d, a) => d.grantReplication(a),
  requireX509: true,
  allowed: () => /^GRANT (USAGE|REPLICATION SLAVE) ON \*\.\* TO /,
};

/** The account the peer's resource script and monitor fence this server with (dialect.grantFence). */
export const FENCE_ACCOUNT: ServiceAccountKind = {
  allowedText: 'what fencing needs',
  grant: (d, a) => d.grantFence(a),
  allowed: (d) => d.fenceGrantPattern,
};

export interface AccountGrants {
  exists: boolean;
  /** How its logins must be secured (mysql.user ssl_type): '' none, ANY (REQUIRE SSL), X509, SPECIFIED. */
  sslType: string;
  /** It has a grant beyond USAGE (duet's). */
  granted: boolean;
  /** SHOW GRANTS lines beyond what duet grants this kind of account. */
  extraGrants: string[];
  /**
   * With a password to check: whether the stored credential is that password's, where its plugin
   * makes that computable without a login (storedPasswordMatches); undefined: ask by a login
   * (tryLogin). The stored hash itself never leaves this module.
   */
  password?: LoginResult | undefined;
}

/** Whether the account exists and what it is granted (and, given `password`, whether it has it). Reading only. */
export async function readAccountGrants(session: MysqlSession, account: Account, kind: ServiceAccountKind, password?: Secret): Promise<AccountGrants> {
  const d = session.dialect;
  const [row] = await query(session, d.findAccount(account));
  if (!row) return { exists: false, sslType: '', granted: false, extraGrants: [] };
  const sslType = String(row.ssl_type ?? '');
  const lines = (await query(session, d.showGrants(account))).map((r) => String(Object.values(r)[0]));
  const allowed = kind.allowed(d);
  const same = password && storedPasswordMatches(String(row.plugin ?? ''), String(row.authentication_string ?? ''), password);
  return {
    exists: true,
    sslType,
    granted: lines.some((g) => allowed.test(g) && !/^GRANT USAGE /.test(g)),
    extraGrants: lines.filter((g) => !allowed.test(g)),
    ...(password && { password: same === undefined ? undefined : same ? { kind: 'ok' as const } : { kind: 'denied' as const } }),
  };
}

/** The refusal for an account with more privileges than duet grants (it neither widens nor narrows another tool's grants). */
export function extraGrantsError(node: string, account: Account, kind: ServiceAccountKind, extra: string[]): ReplicationError {
  return new ReplicationError(`account ${account.user}@${account.host} has more privileges than ${kind.allowedText}`, {
    host: node,
    hint: `revoke them (SHOW GRANTS FOR '${account.user}'@'${account.host}' lists ${extra.length} extra grant(s)); duet will not widen or narrow another tool's grants`,
  });
}

/** Of these accounts, the ones the server does not have. Reading only. */
export async function missingAccounts(session: MysqlSession, accounts: readonly Account[]): Promise<Account[]> {
  const found = await Promise.all(accounts.map(async (a) => (await query(session, session.dialect.findAccount(a))).length > 0));
  return accounts.filter((_, i) => !found[i]);
}

/**
 * A login nobody can use (locked, a random password never kept, no privileges) for a load balancer's
 * address: with an account for that host the server greets a connection from there instead of
 * refusing it at once (error 1130), so verify can tell which server the tier's floating IP reaches.
 * Not binlogged, like the other accounts duet creates by address.
 */
export function ensureLockedAccount(session: MysqlSession, account: Account): Promise<{ created: boolean }> {
  const d = session.dialect;
  return withBinlogOff(session, async () => {
    if ((await query(session, d.findAccount(account))).length > 0) return { created: false };
    await query(session, d.createLockedUser(account, new Secret(randomBytes(24).toString('hex'), 'a locked account')));
    return { created: true };
  });
}

/**
 * Makes a service account (host = the peer's address) exist with `password` and its grant. Not
 * binlogged: each node owns the account its peer uses to reach it. Returns whether it was created.
 */
export function ensureServiceAccount(session: MysqlSession, account: Account, password: Secret, kind: ServiceAccountKind): Promise<{ created: boolean }> {
  const d = session.dialect;
  return withBinlogOff(session, async () => {
    const existed = (await query(session, d.findAccount(account))).length > 0;
    await query(session, existed ? d.setPassword(account, password) : d.createUser(account, password));
    await query(session, kind.grant(d, account));
    if (kind.requireX509) await query(session, d.requireX509(account));
    const { extraGrants } = await readAccountGrants(session, account, kind);
    if (extraGrants.length > 0) throw extraGrantsError(session.node, account, kind, extraGrants);
    return { created: !existed };
  });
}

/** The replication account (see ensureServiceAccount). */
export function ensureReplicationUser(session: MysqlSession, account: Account, password: Secret): Promise<{ created: boolean }> {
  return ensureServiceAccount(session, account, password, REPLICATION_ACCOUNT);
}

/** PEM texts a login test presents over TLS: the CA to check the server by, the client's certificate and key. */
export interface LoginTls {
  ca: string;
  cert: string;
  key: Secret;
}

/**
 * How many replicas this server's commits wait for (semi-sync clients connected); undefined where
 * duet does not use semi-sync (MySQL). 0 on a writer: it commits alone, and a crash can take its last
 * acknowledged writes with it.
 */
export async function semiSyncReplicaCount(session: MysqlSession): Promise<number | undefined> {
  if (!session.dialect.semiSyncReplicas) return undefined;
  const [row] = await query(session, session.dialect.semiSyncReplicas);
  return Number(Object.values(row ?? {})[0] ?? 0);
}

/**
 * Whether an account has the inventory's password: accepted (or stored as it), refused for the
 * password (1045) or stored as another, or no answer to the question.
 */
export type LoginResult = { kind: 'ok' } | { kind: 'denied' } | { kind: 'unknown'; reason: string };

const ER_ACCESS_DENIED = 1045;

/**
 * Logs in to host:port as `user` with `password`, from the SSH host (a TCP connection through its
 * routes and the target's firewall: the path a replica takes), then quits at once. A password cannot
 * be read back from a server, so this is how provision knows whether an account still has the
 * inventory's. The server's text is never shown (the attempt carries a secret).
 */
export async function tryLogin(ssh: SshConnection, host: string, port: number, user: string, password: Secret, timeoutMs: number, tls?: LoginTls): Promise<LoginResult> {
  trace(() => `${ssh.target.name} login test> ${user}@${host}:${port} with password [redacted]${tls ? ' over TLS, with the client certificate of ' + ssh.target.name : ''}`);
  let stream: Awaited<ReturnType<SshConnection['forwardTcp']>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<LoginResult>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'unknown', reason: `no answer from ${host}:${port} within ${timeoutMs} ms` }), timeoutMs);
  });
  const attempt = (async (): Promise<LoginResult> => {
    try {
      stream = await ssh.forwardTcp(host, port);
    } catch (err) {
      return { kind: 'unknown', reason: err instanceof Error ? err.message : String(err) };
    }
    try {
      // Over TLS as the replica connects: the server's certificate checked against the cluster's CA
      // (not its name: the stream is a tunnel), and the SSH host's own certificate presented.
      const ssl = tls && { ca: tls.ca, cert: tls.cert, key: tls.key.reveal(), rejectUnauthorized: true, verifyIdentity: false };
      const connection = await createConnection({ stream, host, port, user, password: password.reveal(), ...(ssl && { ssl }) });
      connection.on('error', () => {});
      await connection.end().catch(() => connection.destroy());
      return { kind: 'ok' };
    } catch (err) {
      const errno = (err as { errno?: unknown }).errno;
      if (errno === ER_ACCESS_DENIED) return { kind: 'denied' };
      return { kind: 'unknown', reason: typeof errno === 'number' ? `server error ${errno}` : 'the connection failed' };
    }
  })();
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
    stream?.destroy();
  }
}

/** The schemas among `names` that the server does not have. */
export async function missingDatabases(session: MysqlSession, names: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) {
    if ((await query(session, { sql: 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', params: [name] })).length === 0) missing.push(name);
  }
  return missing;
}

/**
 * Creates a schema when it is missing; true when it had to. Not binlogged: each node creates its own,
 * so this does not depend on how binlog_do_db filters CREATE DATABASE.
 */
export async function ensureDatabase(session: MysqlSession, name: string): Promise<boolean> {
  if ((await missingDatabases(session, [name])).length === 0) return false;
  await withBinlogOff(session, () => query(session, { sql: `CREATE DATABASE IF NOT EXISTS ${escapeId(name)}`, params: [] }));
  return true;
}

/**
 * Points the replica at its source in one call (by hand, tests). Idempotent: when host, port, user
 * and GTID mode already match, nothing is touched (replication keeps running). The password cannot
 * be read back, so after a rotation pass `force` (provision plans that itself: planPair, changeSource).
 * Threads that were running are stopped for the change and started again.
 */
export async function configureSource(session: MysqlSession, source: ChangeSourceOptions & { force?: boolean }): Promise<'changed' | 'unchanged'> {
  const current = await readReplicaStatus(session);
  const mode = source.useGtid ? session.dialect.gtidMode : 'no';
  const matches =
    current !== undefined &&
    current.sourceHost === source.host &&
    current.sourcePort === source.port &&
    current.sourceUser === source.user &&
    current.usingGtid === mode;
  if (matches && !source.force) return 'unchanged';
  const wasRunning = current !== undefined && (current.ioRunning !== 'No' || current.sqlRunning !== 'No');
  await changeSource(session, source);
  if (wasRunning) await query(session, session.dialect.startReplica);
  return 'changed';
}

/**
 * Points the replica at `source` (CHANGE MASTER with its user and password), its threads stopped
 * first and left stopped: startReplica follows, once the source's account is ready.
 */
export async function changeSource(session: MysqlSession, source: ChangeSourceOptions): Promise<void> {
  await stopReplica(session);
  await query(session, session.dialect.changeSource(source));
}

/**
 * Starts both replica threads and waits until they run (I/O thread connected to the source), so a
 * wrong password or unreachable source is reported here with the server's own error text.
 */
export async function startReplica(session: MysqlSession, timeoutMs = 15_000): Promise<ReplicaStatus> {
  await query(session, session.dialect.startReplica);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await readReplicaStatus(session);
    if (!status) throw new ReplicationError('START REPLICA on a server without a configured source', { host: session.node });
    if (status.ioRunning === 'Yes' && status.sqlRunning === 'Yes') return status;
    const failure = replicaFailure(status);
    // An I/O thread still 'Connecting' retries by itself: a source that is just restarting refuses
    // a connection or two. Only a stopped thread, or the deadline, makes an error final.
    const final = failure !== undefined && (status.ioRunning === 'No' || status.sqlRunning === 'No');
    if (final || Date.now() > deadline) {
      throw new ReplicationError(failure ?? `replication from ${status.sourceHost}:${status.sourcePort} did not start within ${timeoutMs} ms (I/O ${status.ioRunning}, SQL ${status.sqlRunning})`, {
        host: session.node,
        hint: 'check the source address, the replication account and password, and that the source listens on the network',
      });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops the replica threads; a server that is not a replica is left alone. */
export async function stopReplica(session: MysqlSession): Promise<void> {
  if (await readReplicaStatus(session)) await query(session, session.dialect.stopReplica);
}

/** Waits until the replica has applied `position` (the source's InstanceState.gtid.binlog). */
export async function waitForGtid(session: MysqlSession, position: string, timeoutSeconds: number): Promise<void> {
  const [row] = await query(session, session.dialect.waitForGtid(position, timeoutSeconds));
  if (Number(row?.reached) === 1) return;
  const status = await readReplicaStatus(session);
  throw new ReplicationError(`did not reach GTID position ${position} within ${timeoutSeconds} s`, {
    host: session.node,
    hint:
      (status && replicaFailure(status)) ??
      `replication is running but behind; wait longer or check the source${status ? ` (I/O ${status.ioRunning}: ${status.ioState || 'no state'}; received ${status.gtidIoPos || 'nothing'}; SQL ${status.sqlRunning})` : ''}`,
  });
}

function replicaFailure(status: ReplicaStatus): string | undefined {
  const error = replicaError(status);
  return error && `replica ${error}`;
}

/** What decides how a server takes part in replication, as it runs now (not as my.cnf says). */
export interface ReplicationSettings {
  serverId: number;
  logBin: boolean;
  logReplicaUpdates: boolean;
  binlogFormat: string;
  autoIncrementIncrement: number;
  autoIncrementOffset: number;
  /** MariaDB only. */
  gtidDomainId: number | undefined;
  /** MariaDB only: semi-sync and strict GTID order, which keep a failover from replaying an unacknowledged tail (templates/my.cnf.hbs; init_rpl_role is a start option, not a variable: the drift check sees it). */
  tailSafety?: { gtidStrictMode: boolean; semiSyncSource: boolean; semiSyncReplica: boolean; semiSyncWaitPoint: string } | undefined;
  /** The binlog filters as the binlog reports them; undefined when the binlog is off. */
  binlogFilters: { doDb: string[]; ignoreDb: string[] } | undefined;
}

export async function readReplicationSettings(session: MysqlSession): Promise<ReplicationSettings> {
  const [row] = await query(session, session.dialect.replicationSettings);
  if (!row) throw new HostStateError('the server returned no variables', { host: session.node });
  const [binlog] = await query(session, session.dialect.showBinaryLogStatus);
  const list = (value: unknown) => String(value ?? '').split(',').filter((name) => name !== '');
  return {
    serverId: Number(row.server_id),
    logBin: Number(row.log_bin) === 1,
    logReplicaUpdates: Number(row.log_replica_updates) === 1,
    binlogFormat: String(row.binlog_format),
    autoIncrementIncrement: Number(row.auto_increment_increment),
    autoIncrementOffset: Number(row.auto_increment_offset),
    gtidDomainId: row.gtid_domain_id == null ? undefined : Number(row.gtid_domain_id),
    tailSafety:
      row.gtid_strict_mode === undefined
        ? undefined
        : {
            gtidStrictMode: Number(row.gtid_strict_mode) === 1,
            semiSyncSource: Number(row.semi_sync_source) === 1,
            semiSyncReplica: Number(row.semi_sync_replica) === 1,
            semiSyncWaitPoint: String(row.semi_sync_wait_point),
          },
    binlogFilters: binlog && { doDb: list(binlog.Binlog_Do_DB), ignoreDb: list(binlog.Binlog_Ignore_DB) },
  };
}

export interface TableName {
  schema: string;
  table: string;
}

/** Every base table on the server (views and system views excluded). */
export async function listBaseTables(session: MysqlSession): Promise<TableName[]> {
  const rows = await query(session, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'");
  return rows.map((r) => ({ schema: String(r.TABLE_SCHEMA), table: String(r.TABLE_NAME) }));
}

/**
 * CHECKSUM TABLE of each table, keyed "schema.table"; null for a table the server does not have.
 * A full scan of each table: the cost grows with the data.
 */
export async function checksumTables(session: MysqlSession, tables: TableName[]): Promise<Map<string, string | null>> {
  if (tables.length === 0) return new Map();
  const names = tables.map((t) => `${escapeId(t.schema)}.${escapeId(t.table)}`).join(', ');
  const rows = await query(session, `CHECKSUM TABLE ${names}`);
  return new Map(rows.map((r) => [String(r.Table), r.Checksum == null ? null : String(r.Checksum)]));
}

/** Whether the server has a client connection with this id that has not logged in yet. */
export async function hasPendingLogin(session: MysqlSession, connectionId: number): Promise<boolean> {
  const rows = await query(session, {
    sql: "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ? AND USER = 'unauthenticated user'",
    params: [connectionId],
  });
  return rows.length > 0;
}

// What a server reports about itself, in one shape for both flavors. Pure: parsers take the rows
// mysql2 returns, so they are tested with rows captured from real servers.
import { HostStateError } from '../errors.ts';
import type { Flavor } from '../inventory/model.ts';
import type { GtidMode } from './dialect.ts';

/** MariaDB also reports 'Preparing' for a moment while the I/O thread starts. */
export type ThreadRunning = 'Yes' | 'No' | 'Connecting' | 'Preparing';

export interface ReplicaStatus {
  sourceHost: string;
  sourcePort: number;
  sourceUser: string;
  /** Free text such as "Waiting for master to send event" (empty when stopped). */
  ioState: string;
  ioRunning: ThreadRunning;
  sqlRunning: ThreadRunning;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  /** null while a thread is stopped or still connecting. */
  secondsBehind: number | null;
  usingGtid: GtidMode;
  /** GTIDs received from the source (MariaDB Gtid_IO_Pos, MySQL Retrieved_Gtid_Set). */
  gtidIoPos: string;
  /** 0 until the I/O thread has talked to the source. */
  sourceServerId: number;
  /** TLS to the source as CHANGE MASTER set it: on, the source's certificate verified, and the files. */
  tls: { enabled: boolean; verifyServerCert: boolean; ca: string; cert: string; key: string };
}

export interface InstanceState {
  version: string;
  flavor: Flavor;
  serverId: number;
  readOnly: boolean;
  gtid: {
    /** Everything this server has applied (MariaDB gtid_current_pos, MySQL gtid_executed). */
    current: string;
    /** Everything in its binlog, i.e. what a replica of it can catch up to (gtid_binlog_pos / gtid_executed). */
    binlog: string;
  };
  /** undefined when the server has never been configured as a replica. */
  replica: ReplicaStatus | undefined;
}

type Row = Record<string, unknown>;

/** The replica connects over TLS, verifies the source's certificate, and uses these files (duet's). */
export function usesTls(replica: ReplicaStatus, files: { ca: string; cert: string; key: string }): boolean {
  const { tls } = replica;
  return tls.enabled && tls.verifyServerCert && tls.ca === files.ca && tls.cert === files.cert && tls.key === files.key;
}

/** The replica's last error, as every command words it ("SQL error 1062: ..."); the SQL thread's first. */
export function replicaError(replica: ReplicaStatus): string | undefined {
  if (replica.lastSqlErrno !== 0) return `SQL error ${replica.lastSqlErrno}: ${replica.lastSqlError}`;
  if (replica.lastIoErrno !== 0) return `I/O error ${replica.lastIoErrno}: ${replica.lastIoError}`;
  return undefined;
}

/**
 * A SHOW SLAVE STATUS (MariaDB, MySQL < 8.0.22) or SHOW REPLICA STATUS (MySQL 8.0.22+) row. MariaDB's
 * SHOW REPLICA STATUS keeps the old column names, so the spelling is read from the row itself.
 */
export function parseReplicaStatus(row: Row): ReplicaStatus {
  const [source, replica] = 'Source_Host' in row ? ['Source', 'Replica'] : 'Master_Host' in row ? ['Master', 'Slave'] : [];
  if (source === undefined || replica === undefined) {
    throw new HostStateError(`unexpected replica status row (columns: ${Object.keys(row).slice(0, 6).join(', ')}, ...)`);
  }
  return {
    sourceHost: text(row, `${source}_Host`),
    sourcePort: num(row, `${source}_Port`),
    sourceUser: text(row, `${source}_User`),
    ioState: text(row, `${replica}_IO_State`),
    ioRunning: running(row, `${replica}_IO_Running`),
    sqlRunning: running(row, `${replica}_SQL_Running`),
    lastIoErrno: num(row, 'Last_IO_Errno'),
    lastIoError: text(row, 'Last_IO_Error'),
    lastSqlErrno: num(row, 'Last_SQL_Errno'),
    lastSqlError: text(row, 'Last_SQL_Error'),
    secondsBehind: row[`Seconds_Behind_${source}`] == null ? null : num(row, `Seconds_Behind_${source}`),
    usingGtid: 'Using_Gtid' in row ? mariadbGtidMode(text(row, 'Using_Gtid')) : num(row, 'Auto_Position') === 1 ? 'auto_position' : 'no',
    gtidIoPos: gtidSet(text(row, 'Using_Gtid' in row ? 'Gtid_IO_Pos' : 'Retrieved_Gtid_Set')),
    sourceServerId: num(row, `${source}_Server_Id`),
    tls: {
      enabled: text(row, `${source}_SSL_Allowed`) === 'Yes',
      verifyServerCert: text(row, `${source}_SSL_Verify_Server_Cert`) === 'Yes',
      ca: text(row, `${source}_SSL_CA_File`),
      cert: text(row, `${source}_SSL_Cert`),
      key: text(row, `${source}_SSL_Key`),
    },
  };
}

/** The row of Dialect.instanceVariables plus the replica status rows (empty: not a replica). */
export function parseInstanceState(variables: Row, replicaRows: Row[], flavor: Flavor): InstanceState {
  const [replicaRow] = replicaRows;
  return {
    version: text(variables, 'version'),
    flavor,
    serverId: num(variables, 'server_id'),
    readOnly: num(variables, 'read_only') === 1,
    gtid: { current: gtidSet(text(variables, 'gtid_current')), binlog: gtidSet(text(variables, 'gtid_binlog')) },
    replica: replicaRow === undefined ? undefined : parseReplicaStatus(replicaRow),
  };
}

/** MySQL prints long GTID sets with newlines after the commas. */
function gtidSet(value: string): string {
  return value.replace(/\s+/g, '');
}

function mariadbGtidMode(value: string): GtidMode {
  switch (value.toLowerCase()) {
    case 'slave_pos':
      return 'slave_pos';
    case 'current_pos':
      return 'current_pos';
    default:
      return 'no';
  }
}

function text(row: Row, column: string): string {
  const value = row[column];
  return value == null ? '' : String(value);
}

function num(row: Row, column: string): number {
  const value = Number(row[column] ?? 0);
  if (!Number.isFinite(value)) throw new HostStateError(`column ${column} is not a number: ${String(row[column])}`);
  return value;
}

function running(row: Row, column: string): ThreadRunning {
  const value = text(row, column);
  if (value === 'Yes' || value === 'No' || value === 'Connecting' || value === 'Preparing') return value;
  throw new HostStateError(`column ${column} has an unexpected value "${value}"`);
}

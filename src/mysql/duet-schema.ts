// duet's own schema on every node: small tables for duet's checks and for clients (canary,
// topology). Each node creates them itself with the binlog off, so creation never depends on how
// binlog_do_db filters DDL; their rows replicate like any other (the schema is on binlog_do_db).
import { DUET_SCHEMA } from '../inventory/validate.ts';
import { ensureDatabase, missingDatabases, query, withBinlogOff, type MysqlSession } from './dao.ts';
import { TOPOLOGY_TABLE } from './dialect.ts';

/**
 * verify's two-way canary: each run inserts a fresh row on each node and waits for it on the peer.
 * Keyed by the writing node, so the two nodes never write the same row; only ever INSERTed with a
 * new token, so a row an earlier fault kept from arriving can never stop the replica (1032).
 */
export const CANARY_TABLE = 'canary';

/**
 * The failover drill's writes: one row per acknowledged key of a run (scripts/drill.ts), so a key
 * written twice is a duplicate-key error, never a second row.
 */
export const DRILL_TABLE = 'drill';

/** CREATE TABLE IF NOT EXISTS statements, schema-qualified, one per table duet owns. */
export const DUET_TABLES: string[] = [
  `CREATE TABLE IF NOT EXISTS ${DUET_SCHEMA}.${CANARY_TABLE} (` +
    'writer VARCHAR(64) NOT NULL, token CHAR(32) NOT NULL, written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
    'PRIMARY KEY (writer, token)) ENGINE=InnoDB',
  // Who the writer is, for clients: one row per node; every grant of the write role (a swap, the
  // resource script's start) rewrites both rows with a new, higher epoch.
  `CREATE TABLE IF NOT EXISTS ${DUET_SCHEMA}.${TOPOLOGY_TABLE} (` +
    "node VARCHAR(64) NOT NULL PRIMARY KEY, address VARCHAR(45) NOT NULL, role ENUM('writer', 'reader') NOT NULL, " +
    'epoch BIGINT UNSIGNED NOT NULL, changed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE=InnoDB',
  `CREATE TABLE IF NOT EXISTS ${DUET_SCHEMA}.${DRILL_TABLE} (` +
    'run CHAR(16) NOT NULL, seq BIGINT UNSIGNED NOT NULL, written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), ' +
    'PRIMARY KEY (run, seq)) ENGINE=InnoDB',
];

/** What ensureDuetSchema would create ("database duet", "table duet.canary", ...); [] when all is there. Reading only. */
export async function missingDuetSchema(session: MysqlSession): Promise<string[]> {
  const database = (await missingDatabases(session, [DUET_SCHEMA])).map((name) => `database ${name}`);
  return [...database, ...(await missingTables(session)).map((ddl) => `table ${DUET_SCHEMA}.${tableName(ddl)}`)];
}

async function missingTables(session: MysqlSession): Promise<string[]> {
  const existing = new Set(
    (await query(session, { sql: 'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', params: [DUET_SCHEMA] })).map((r) => String(r.TABLE_NAME)),
  );
  return DUET_TABLES.filter((ddl) => !existing.has(tableName(ddl)));
}

/** Creates duet's schema and tables where missing; returns what it created. */
export async function ensureDuetSchema(session: MysqlSession): Promise<string[]> {
  const created: string[] = [];
  if (await ensureDatabase(session, DUET_SCHEMA)) created.push(`database ${DUET_SCHEMA}`);
  const missing = await missingTables(session);
  if (missing.length === 0) return created;
  await withBinlogOff(session, async () => {
    for (const ddl of missing) {
      await query(session, ddl);
      created.push(`table ${DUET_SCHEMA}.${tableName(ddl)}`);
    }
  });
  return created;
}

function tableName(ddl: string): string {
  const m = new RegExp(`CREATE TABLE IF NOT EXISTS ${DUET_SCHEMA}\\.(\\w+)`).exec(ddl);
  if (!m?.[1]) throw new Error(`DUET_TABLES entry does not start with CREATE TABLE IF NOT EXISTS ${DUET_SCHEMA}.<name>: ${ddl.slice(0, 60)}`);
  return m[1];
}

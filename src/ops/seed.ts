// Existing data when a pair is first set up. One node with data and an empty peer: copy it, as a
// dump taken at a known GTID position, streamed over SSH from node to node, before replication
// starts. Both with data that differs: refuse, change nothing, never drop or overwrite a database.
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { HostStateError, ReplicationError } from '../errors.ts';
import type { Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';
import { DUET_SCHEMA } from '../inventory/validate.ts';
import { checksumTables, listBaseTables, query, readReplicaStatus, stopReplica, type MysqlSession } from '../mysql/dao.ts';
import { shellQuote } from '../transport/shell.ts';
import type { NodeConnections } from './pair-state.ts';
import { comparedSchemas } from './verify-checks.ts';

export interface NodeData {
  node: NodeSpec;
  /** The node already replicates from somewhere: the pair was set up before. */
  replicaConfigured: boolean;
  /** Replicated schemas that hold at least one table. */
  schemas: string[];
  /** "schema.table" -> checksum (null until compared). */
  tables: Map<string, string | null>;
}

export type SeedDecision =
  | { kind: 'none'; reason: string }
  | { kind: 'copy'; from: NodeSpec; to: NodeSpec; databases: string[] };

/** Pure: what to do with the data found on the two nodes. Throws when both hold different data. */
export function decideSeed(a: NodeData, b: NodeData): SeedDecision {
  if (a.replicaConfigured || b.replicaConfigured) return { kind: 'none', reason: 'replication was set up before' };
  if (a.tables.size === 0 && b.tables.size === 0) return { kind: 'none', reason: 'both nodes are empty' };
  if (b.tables.size === 0) return { kind: 'copy', from: a.node, to: b.node, databases: a.schemas };
  if (a.tables.size === 0) return { kind: 'copy', from: b.node, to: a.node, databases: b.schemas };
  const names = new Set([...a.tables.keys(), ...b.tables.keys()]);
  const differing = [...names].filter((t) => a.tables.get(t) === undefined || a.tables.get(t) !== b.tables.get(t)).sort();
  if (differing.length === 0) return { kind: 'none', reason: 'both nodes hold the same data' };
  throw new ReplicationError(`both ${a.node.name} and ${b.node.name} hold data, and it differs (${differing.slice(0, 5).join(', ')}${differing.length > 5 ? `, and ${differing.length - 5} more` : ''}); nothing was changed`, {
    hint: `duet never drops or overwrites a database: keep the data on one node, move the other node's copy away (e.g. dump it, then DROP DATABASE there), and run provision again`,
  });
}

async function readNodeData(inv: Inventory, node: NodeSpec, session: MysqlSession, withChecksums: boolean): Promise<NodeData> {
  const all = await listBaseTables(session);
  const schemas = comparedSchemas(inv, [...new Set(all.map((t) => t.schema))], DUET_SCHEMA);
  const replicated = all.filter((t) => schemas.includes(t.schema));
  const checksums = withChecksums ? await checksumTables(session, replicated) : new Map<string, string | null>();
  return {
    node,
    replicaConfigured: (await readReplicaStatus(session)) !== undefined,
    schemas: [...new Set(replicated.map((t) => t.schema))].sort(),
    tables: new Map(replicated.map((t) => [`${t.schema}.${t.table}`, checksums.get(`${t.schema}.${t.table}`) ?? null])),
  };
}

/** What decideSeed needs from both nodes: their replicated tables, with checksums only when the decision depends on them. */
export async function readSeedData(inv: Inventory, pair: PairSpec, conn: NodeConnections): Promise<[NodeData, NodeData]> {
  const [a, b] = pair.nodes;
  const [sa, sb] = [await conn.mysql(a), await conn.mysql(b)];
  const first: [NodeData, NodeData] = [await readNodeData(inv, a, sa, false), await readNodeData(inv, b, sb, false)];
  // Checksums cost a full read: only when both have tables and the answer depends on them.
  const bothHaveData = first[0].tables.size > 0 && first[1].tables.size > 0 && !first[0].replicaConfigured && !first[1].replicaConfigured;
  if (!bothHaveData) return first;
  return [await readNodeData(inv, a, sa, true), await readNodeData(inv, b, sb, true)];
}


/** Extracts the GTID position a dump was taken at from its header, passing every byte through. */
class GtidPositionSniffer extends Transform {
  position: string | undefined;
  #head = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.position === undefined && this.#head.length < 64 * 1024) {
      this.#head += chunk.toString('utf8');
      const m = /^-- SET GLOBAL gtid_slave_pos='([^']*)';$/m.exec(this.#head);
      if (m) this.position = m[1];
    }
    done(null, chunk);
  }
}

/**
 * Copies the databases from one node to its empty peer: a consistent dump (one transaction, with the
 * GTID position it was taken at) piped into the peer with its binlog off, so the copy is not
 * replicated back; then the peer's replica position is set to that GTID, so replication continues
 * exactly after the dump. Returns the position.
 */
export async function copyData(decision: Extract<SeedDecision, { kind: 'copy' }>, conn: NodeConnections): Promise<string> {
  const target = await conn.mysql(decision.to);
  if (target.dialect.flavor !== 'mariadb') {
    throw new HostStateError('copying existing data to an empty peer is implemented for MariaDB only', {
      host: decision.to.name,
      hint: 'copy the data by hand (mysqldump --source-data) and run provision again',
    });
  }
  const dump = `mariadb-dump --single-transaction --gtid --master-data=2 --routines --triggers --events --databases ${decision.databases.map(shellQuote).join(' ')}`;
  const sniffer = new GtidPositionSniffer();
  const input = new PassThrough();
  input.write(`${target.dialect.binlogOff};\n`);
  sniffer.pipe(input);
  const [fromSsh, toSsh] = [await conn.ssh(decision.from), await conn.ssh(decision.to)];
  const [dumped, loaded] = await Promise.all([fromSsh.exec(dump, { stdout: sniffer }), toSsh.exec('mariadb --binary-mode --batch', { stdin: input })]);
  if (dumped.code !== 0) throw new ReplicationError(`mariadb-dump failed (exit ${dumped.code}): ${dumped.stderr.trim()}`, { host: decision.from.name });
  if (loaded.code !== 0) throw new ReplicationError(`loading the copy failed (exit ${loaded.code}): ${loaded.stderr.trim()}`, { host: decision.to.name });
  if (sniffer.position === undefined) throw new ReplicationError('the dump did not say at which GTID position it was taken', { host: decision.from.name });
  await stopReplica(target);
  await query(target, { sql: 'SET GLOBAL gtid_slave_pos = ?', params: [sniffer.position] });
  return sniffer.position;
}

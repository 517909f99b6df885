// The pair's topology for clients: duet.topology on both nodes says which node is the writer and at
// which write-role epoch. Every grant of the write role (the resource script's start, provision on a
// pair without rows) writes both rows on the new writer with a higher epoch; the rows replicate, so
// clients can ask either node with plain SQL (README: "Topology for clients").
import type { PairSpec } from '../inventory/model.ts';
import { peerOf } from '../inventory/model.ts';
import { query, type MysqlSession } from '../mysql/dao.ts';
import { grantWriterRole, selectTopology, useDuetSchema } from '../mysql/dialect.ts';

export interface TopologyRow {
  node: string;
  address: string;
  role: 'writer' | 'reader';
  epoch: number;
}

/** What one node's table says: the writer at the highest epoch (undefined when it has no rows). */
export interface TopologyView {
  writer: string | undefined;
  epoch: number;
  rows: TopologyRow[];
}

export async function readTopology(session: MysqlSession): Promise<TopologyView> {
  const rows = (await query(session, selectTopology)).map(
    (r): TopologyRow => ({ node: String(r.node), address: String(r.address), role: r.role === 'writer' ? 'writer' : 'reader', epoch: Number(r.epoch) }),
  );
  return topologyView(rows);
}

export function topologyView(rows: TopologyRow[]): TopologyView {
  const epoch = Math.max(0, ...rows.map((r) => r.epoch));
  const writer = rows.filter((r) => r.role === 'writer' && r.epoch === epoch).map((r) => r.node);
  return { writer: writer.length === 1 ? writer[0] : undefined, epoch, rows };
}

/** Whether the table names `writer` as the only writer, with every node's address as the inventory says. */
export function topologyNames(view: TopologyView, pair: PairSpec, writer: string): boolean {
  return (
    view.writer === writer &&
    pair.nodes.every((n) => view.rows.some((r) => r.node === n.name && r.address === n.address && r.epoch === view.epoch))
  );
}

/** Records `writer` as the pair's writer at a new epoch. Run on the writer: the rows replicate from it. */
export async function recordWriter(session: MysqlSession, pair: PairSpec, writer: string): Promise<void> {
  const node = pair.nodes.find((n) => n.name === writer);
  if (!node) throw new Error(`recordWriter: ${writer} is not a node of pair ${pair.name}`);
  await query(session, useDuetSchema);
  for (const statement of grantWriterRole(node, peerOf(pair, node))) await query(session, statement);
}

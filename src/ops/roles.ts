// Single-node role changes done by hand: read_only on or off, replication threads started or
// stopped. Each reads first, refuses what would leave the pair with two writers (or a writer the
// floating IP does not lead to) unless forced, and says what it did.
import { audit, auditSql } from '../audit.ts';
import { afterFirstChange, HostStateError, ReplicationError } from '../errors.ts';
import type { Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';
import { peerOf } from '../inventory/model.ts';
import { locateNode } from '../inventory/select.ts';
import { readInstanceState, readOnlyBypassers, readReplicaStatus, setReadOnly, startReplica, stopReplica } from '../mysql/dao.ts';
import { duetAccounts } from '../mysql/dialect.ts';
import { readPairState, type NodeConnections } from './pair-state.ts';
import { formatPairStatus, readPairStatus, withConnections } from './status.ts';
import { recordWriter } from './topology.ts';

/** Runs `change` on the named node; returns its notes, then the pair's status as it is afterwards. */
export async function changeNode(inv: Inventory, nodeName: string, change: (conn: NodeConnections, pair: PairSpec, node: NodeSpec) => Promise<string[]>): Promise<string> {
  const { pair, node } = locateNode(inv, nodeName);
  return withConnections(inv, async (conn) => {
    const notes = await change(conn, pair, node);
    const status = await afterFirstChange(`${notes.join('; ')}; then reading the pair's status failed`, () => readPairStatus(conn, pair));
    return `${notes.join('\n')}\n\n${formatPairStatus(status)}`;
  });
}

/**
 * read_only OFF on `node`, recorded in duet.topology as a new write-role epoch. Refused, unless
 * forced, when the peer is writable (two writers) or holds the floating IP (the application would not
 * reach the new writer).
 */
export async function makeWritable(conn: NodeConnections, pair: PairSpec, node: NodeSpec, force: boolean): Promise<string> {
  const state = await readPairState(conn, pair);
  const own = state.nodes.find((n) => n.node.name === node.name)!;
  const peer = state.nodes.find((n) => n.node.name !== node.name)!;
  if (!own.mysql) throw new HostStateError(`cannot ask MySQL: ${own.mysqlError ?? 'no answer'}`, { host: node.name });
  if (!own.mysql.readOnly) return `${node.name} is already writable`;
  if (!force && peer.mysql?.readOnly === false) {
    throw new ReplicationError(`${peer.node.name} is writable: making ${node.name} writable too would give the pair two writers`, {
      host: node.name,
      hint: `swap moves the write role (and the floating IP) safely; --force makes a second writer anyway`,
    });
  }
  if (!force && peer.holdsVip && !own.holdsVip) {
    throw new ReplicationError(`the floating IP is on ${peer.node.name}: the application would not reach ${node.name}`, {
      host: node.name,
      hint: `make ${peer.node.name} writable instead, or swap; --force makes ${node.name} writable anyway`,
    });
  }
  const session = await conn.mysql(node);
  return afterFirstChange(`making ${node.name} writable failed (it may be writable already)`, async () => {
    await setReadOnly(session, false);
    const forced = force && (peer.mysql?.readOnly === false || (peer.holdsVip && !own.holdsVip)) ? ' (forced)' : '';
    audit({ host: node.name, phase: 'read_only', kind: 'role', pair: pair.name, writer: node.name, what: `${node.name} made writable${forced}`, statements: [auditSql(session.dialect.setReadOnly(false))] });
    await recordWriter(session, pair, node.name);
    audit({ host: node.name, phase: 'topology', kind: 'sql', what: `recorded ${node.name} as the writer of pair ${pair.name} at a new epoch` });
    return `${node.name} is writable (a new write-role epoch is recorded)`;
  });
}

/** read_only ON on `node`. Says when that leaves the floating IP on a read-only server, or who can still write. */
export async function makeReadOnly(conn: NodeConnections, inv: Inventory, pair: PairSpec, node: NodeSpec): Promise<string[]> {
  const session = await conn.mysql(node);
  if ((await readInstanceState(session)).readOnly) return [`${node.name} is already read-only`];
  return afterFirstChange(`making ${node.name} read-only failed (it may be read-only already)`, async () => {
    await setReadOnly(session, true);
    audit({ host: node.name, phase: 'read_only', kind: 'role', pair: pair.name, what: `${node.name} made read-only`, statements: [auditSql(session.dialect.setReadOnly(true))] });
    const notes = [`${node.name} is read-only`];
    const holdsVip = (await readPairState(conn, pair)).nodes.some((n) => n.node.name === node.name && n.holdsVip);
    if (holdsVip) notes.push(`${node.name} holds the floating IP: the application cannot write until it is writable again (readonly off ${node.name}) or a swap`);
    const bypass = await readOnlyBypassers(session, duetAccounts(inv.ssh.user));
    if (bypass.length > 0) notes.push(`these accounts can still write on ${node.name} (READ ONLY ADMIN or SUPER): ${bypass.join(', ')}`);
    return notes;
  });
}

export async function setReplication(conn: NodeConnections, pair: PairSpec, node: NodeSpec, running: boolean): Promise<string> {
  const session = await conn.mysql(node);
  const status = await readReplicaStatus(session);
  const source = peerOf(pair, node).name;
  if (!status) throw new ReplicationError('the server is not configured as a replica', { host: node.name, hint: 'run provision first' });
  if (running) {
    if (status.ioRunning === 'Yes' && status.sqlRunning === 'Yes') return `replication on ${node.name} (from ${source}) is already running`;
    await afterFirstChange(`replication on ${node.name} (from ${source}) was started but does not run`, () =>
      startReplica(session).finally(() => audit({ host: node.name, phase: 'replication', kind: 'sql', what: `started replication on ${node.name} (from ${source})` })),
    );
    return `replication on ${node.name} (from ${source}) is running`;
  }
  if (status.ioRunning === 'No' && status.sqlRunning === 'No') return `replication on ${node.name} (from ${source}) is already stopped`;
  await afterFirstChange(`stopping replication on ${node.name} failed (it may be stopped already)`, () => stopReplica(session));
  audit({ host: node.name, phase: 'replication', kind: 'sql', what: `stopped replication on ${node.name} (from ${source})` });
  return `replication on ${node.name} (from ${source}) is stopped`;
}

// swap's pre-flight: everything that makes a swap from one node to the other unsafe, decided from
// facts read beforehand (nothing here reads or changes a host). What --force may accept is marked.
import type { NodeSpec, PairSpec } from '../inventory/model.ts';
import { WRITER_RESOURCE } from '../render/desired.ts';
import type { NodeLiveState } from './pair-state.ts';
import { assessPair, type NodeExtras } from './status.ts';

export interface SwapProblem {
  message: string;
  /** Safe to override with --force (it makes the swap slower or the pair one-way, never loses writes). */
  forceable: boolean;
}

/** What pre-flight reads from each node. */
export interface NodeFacts {
  live: NodeLiveState;
  extras: NodeExtras;
  /** "do=...; ignore=..." from the binary log status, undefined when the binlog is off. */
  binlogFilters: string | undefined;
}

/** Everything that makes a swap from `from` to `to` unsafe, read from both nodes. Pure. */
export function swapProblems(pair: PairSpec, from: NodeSpec, to: NodeSpec, facts: Map<string, NodeFacts>, maxLagSeconds: number): SwapProblem[] {
  const problems: SwapProblem[] = [];
  const never = (message: string) => problems.push({ message, forceable: false });
  const old = facts.get(from.name)!;
  const target = facts.get(to.name)!;
  for (const [name, f] of facts) {
    if (f.extras.unreachable) never(`${name} cannot be reached over SSH: ${f.extras.unreachable}`);
    else if (!f.live.mysql) never(`MySQL on ${name} does not answer: ${f.live.mysqlError ?? 'no answer'}`);
    else {
      if (!f.live.heartbeatRunning) never(`Heartbeat is not running on ${name}: the floating IP cannot move through it`);
      if (!f.extras.haresources?.split('\n').some((l) => l.split(/\s+/).includes(WRITER_RESOURCE))) {
        never(`haresources on ${name} has no ${WRITER_RESOURCE} resource: run provision first`);
      }
    }
  }
  if (problems.length > 0) return problems;
  const status = assessPair(pair, [old.live, target.live], new Map([...facts].map(([n, f]) => [n, f.extras])));
  const nodeStatus = (name: string) => status.nodes.find((n) => n.node === name)!;
  if (old.live.mysql!.readOnly) never(`${from.name} is read-only: there is no writer to swap from`);
  if (!old.live.holdsVip || target.live.holdsVip) never(`the floating IP is not on ${from.name} alone (on: ${status.nodes.filter((n) => n.holdsVip).map((n) => n.node).join(', ') || 'none'})`);
  if (!target.live.mysql!.readOnly) never(`${to.name} is writable already: two writers; make one read-only first`);
  if (nodeStatus(from.name).stale) never(`${from.name} is stale (a higher epoch names another writer)`);

  const replica = target.live.mysql!.replica;
  if (!replica || replica.sourceHost !== from.address) {
    never(`${to.name} does not replicate from ${from.name} (${from.address})${replica ? `: its source is ${replica.sourceHost}` : ''}`);
  } else if (replica.ioRunning !== 'Yes' || replica.sqlRunning !== 'Yes') {
    never(`replication on ${to.name} (from ${from.name}) is not running (I/O ${replica.ioRunning}, SQL ${replica.sqlRunning})${nodeStatus(to.name).replication.lastError ? `: ${nodeStatus(to.name).replication.lastError}` : ''}`);
  } else if (replica.secondsBehind === null || replica.secondsBehind > maxLagSeconds) {
    problems.push({ message: `${to.name} is ${replica.secondsBehind ?? '?'} s behind ${from.name} (limit ${maxLagSeconds} s): the freeze would last until it catches up`, forceable: true });
  }
  if (nodeStatus(from.name).replication.state !== 'running') {
    problems.push({ message: `replication on ${from.name} (from ${to.name}) is ${nodeStatus(from.name).replication.state}: ${to.name}'s writes would not reach ${from.name} after the swap`, forceable: true });
  }
  if (old.binlogFilters !== target.binlogFilters) {
    never(`the binlog filters differ (${from.name}: ${old.binlogFilters ?? 'binlog off'}; ${to.name}: ${target.binlogFilters ?? 'binlog off'}): some changes would not replicate back`);
  }
  return problems;
}

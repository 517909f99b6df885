// The Heartbeat write-up's closing test, as data for a drill runner (issue 11): "at all stages you
// should get a result from your query". Pure: the names come from the inventory, the runner acts.
//
// What a runner needs to run it (`drill --write-up`: runWriteUp in src/ops/drill/drill.ts does this):
// - the pair's tier (pairs[].load_balancers) provisioned, and a client querying and writing through
//   the tier's floating IP (tier.vip.address, tier.port) the whole time, with an application account
//   for the load balancers' addresses (HAProxy connects from there);
// - fault verbs as in src/fixtures/faults.ts: `crash` is "shut down" (a power cut), `boot` is "start";
// - at each `query` step: a query (and a write) returns within `outageLimitSeconds` of the fault
//   before it (deadtime + 2 s, the goal);
// - after each `boot` of a database node, before the next fault: wait until that node replicates
//   again and has caught up (status without warnings, or verify), or the next power cut of its peer
//   loses what it had not yet received; after a boot of a load balancer, until HAProxy runs there;
// - at the end: every acknowledged write once on both nodes, and verify passing.
import type { PairSpec } from '../inventory/model.ts';

export type DrillFaultVerb = 'crash' | 'boot';

export interface DrillStep {
  /** The write-up's wording, with the inventory's host names. */
  name: string;
  /** The fault to inject, or none for a `query` step. */
  fault?: { verb: DrillFaultVerb; host: string };
  /** A query (and write) through the tier's floating IP must return. */
  query?: true;
}

/** The 17 steps for a pair with load balancers: db-01, db-02 and lb-db-01 are its first node, second node and first load balancer. */
export function writeUpSteps(pair: PairSpec): DrillStep[] {
  const tier = pair.loadBalancers;
  if (!tier) throw new Error(`pair ${pair.name} has no load_balancers: the write-up's test runs through them`);
  const [db1, db2] = pair.nodes.map((n) => n.name) as [string, string];
  const lb1 = tier.nodes[0].name;
  const query = (): DrillStep => ({ name: 'run a query', query: true });
  const down = (host: string): DrillStep => ({ name: `shut down ${host}`, fault: { verb: 'crash', host } });
  const up = (host: string): DrillStep => ({ name: `start ${host}`, fault: { verb: 'boot', host } });
  return [query(), down(db1), query(), up(db1), down(db2), query(), up(db2), down(lb1), query(), down(db1), query(), up(db1), down(db2), query(), up(db2), up(lb1), query()];
}

/** The longest a `query` step may wait after the fault before it (the goal: deadtime + 2 s). */
export function outageLimitSeconds(pair: PairSpec, host: string): number {
  const onTier = pair.loadBalancers?.nodes.some((n) => n.name === host) ?? false;
  return (onTier ? pair.loadBalancers!.heartbeat.deadtime : pair.heartbeat.deadtime) + 2;
}

// The failover drill's scenarios, as data: which fault hits which node, how long it is held, what
// brings the node back, and the outage goal. Pure; drill.ts carries them out.
import type { PairSpec } from '../../inventory/model.ts';

/** What the drill does to a node. The first group needs the fixtures; the second is what an operator can do anywhere. */
export type FaultAction =
  | 'crash' | 'boot' | 'partition' | 'heal' | 'kill-mysqld' | 'kill-heartbeat'
  | 'stop-heartbeat' | 'start-heartbeat' | 'stop-mysql' | 'start-mysql';

export const OPERATOR_ACTIONS: ReadonlySet<FaultAction> = new Set(['stop-heartbeat', 'start-heartbeat', 'stop-mysql', 'start-mysql']);

export interface Scenario {
  name: string;
  what: string;
  /** The node the fault hits, by its role when the step starts. */
  target: 'writer' | 'reader';
  fault: FaultAction;
  /** What brings the node back; none when something on the node does it by itself. */
  recover?: FaultAction;
  /** Hold the fault this long before recovering; otherwise until the pair has one writer again. */
  holdMs?: number;
  /** Wait until the writer got the role more than flap_window ago, so the monitor may hand it on. */
  afterFlapWindow?: boolean;
  /** The longest client-seen outage allowed, and why. */
  goal(pair: PairSpec): { outageMs: number; why: string };
}

const heartbeatGoal = (pair: PairSpec) => ({ outageMs: (pair.heartbeat.deadtime + 2) * 1000, why: `deadtime ${pair.heartbeat.deadtime} s + 2 s` });
const monitorGoal = (pair: PairSpec) => {
  const detection = pair.failover.monitorInterval * pair.failover.monitorFailures;
  return { outageMs: Math.min(detection + 2, 10) * 1000, why: `monitor detection ${detection} s + 2 s (10 s at most)` };
};
// The writer keeps the role, but its commits wait for the gone reader's acknowledgement until its
// monitor drops the reader's connection: monitor_failures probes in which its ping (1 s limit) failed.
const semiSyncGoal = (pair: PairSpec) => {
  const detection = Math.max(pair.failover.monitorInterval, 1) * pair.failover.monitorFailures + 1;
  return { outageMs: (detection + 2) * 1000, why: `the writer stops waiting for the reader: ${pair.failover.monitorFailures} probes with a failed ping, ${detection} s + 2 s` };
};
const CUT_MS = 15_000;

export const SCENARIOS: readonly Scenario[] = [
  { name: 'kill-mysqld', what: "SIGKILL of the writer's mariadbd (mysqld_safe restarts it, read-only)", target: 'writer', fault: 'kill-mysqld', afterFlapWindow: true, goal: monitorGoal },
  { name: 'kill-heartbeat', what: "SIGKILL of Heartbeat on the writer, MySQL left running", target: 'writer', fault: 'kill-heartbeat', goal: heartbeatGoal },
  { name: 'partition-writer', what: "the writer's link down for 15 s, then up", target: 'writer', fault: 'partition', recover: 'heal', holdMs: CUT_MS, goal: heartbeatGoal },
  { name: 'partition-reader', what: "the read-only node's link down for 15 s, then up", target: 'reader', fault: 'partition', recover: 'heal', holdMs: CUT_MS, goal: semiSyncGoal },
  { name: 'crash-writer', what: 'power cut of the writer, power back once the peer took over', target: 'writer', fault: 'crash', recover: 'boot', goal: heartbeatGoal },
  { name: 'stop-heartbeat', what: 'service heartbeat stop on the writer, then start', target: 'writer', fault: 'stop-heartbeat', recover: 'start-heartbeat', goal: heartbeatGoal },
  { name: 'stop-mysql', what: 'service mariadb stop on the writer, then start', target: 'writer', fault: 'stop-mysql', recover: 'start-mysql', afterFlapWindow: true, goal: monitorGoal },
];

/** The scenario name (and `--write-up`) of the write-up's 17-step test through the load balancers (src/ops/write-up-test.ts). */
export const WRITE_UP = 'write-up';

/** The drill `npm test` runs: one power cut, one Heartbeat kill, one cut link. */
export const SHORT_DRILL = ['crash-writer', 'kill-heartbeat', 'partition-writer'];
/** Every scenario (on the fixtures). */
export const FULL_DRILL = SCENARIOS.map((s) => s.name);
/** On real hosts: only what an operator can do. */
export const OPERATOR_DRILL = SCENARIOS.filter(isOperatorScenario).map((s) => s.name);

export function isOperatorScenario(s: Scenario): boolean {
  return OPERATOR_ACTIONS.has(s.fault) && (s.recover === undefined || OPERATOR_ACTIONS.has(s.recover));
}

export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** How long after a cut link the pair must have one writer again: the goal after a heal. */
export function afterHealGoalMs(pair: PairSpec): number {
  return (pair.heartbeat.deadtime + 2) * 1000;
}


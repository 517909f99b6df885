// The drill's figures, from what it observed: pure functions of the watcher's samples (who was
// writable, who held the floating IP, when) and the client's acknowledged writes. Unit-tested.

/** One observation of one node: writable (read_only 0 and answering), holding the floating IP. */
export interface Sample {
  node: string;
  /** ms since the epoch. */
  t: number;
  writable: boolean;
  vip: boolean;
}

export interface WriterFigures {
  /** How long two or more nodes were writable at once. */
  doubleWriterMs: number;
  /** How long no node was writable. */
  noWriterMs: number;
}

/**
 * Both durations over [from, to): each node's last sample before a moment stands for its state at
 * that moment (a node with no sample yet counts as not writable).
 */
export function writerFigures(samples: readonly Sample[], nodes: readonly string[], from: number, to: number): WriterFigures {
  const sorted = [...samples].filter((s) => s.t < to).sort((a, b) => a.t - b.t);
  const writable = new Map<string, boolean>(nodes.map((n) => [n, false]));
  let doubleWriterMs = 0;
  let noWriterMs = 0;
  let at = from;
  const account = (until: number) => {
    if (until <= at) return;
    const count = [...writable.values()].filter(Boolean).length;
    if (count >= 2) doubleWriterMs += until - at;
    if (count === 0) noWriterMs += until - at;
    at = until;
  };
  for (const s of sorted) {
    if (s.t > from) account(s.t);
    if (writable.has(s.node)) writable.set(s.node, s.writable);
  }
  account(to);
  return { doubleWriterMs: Math.round(doubleWriterMs), noWriterMs: Math.round(noWriterMs) };
}

/**
 * The longest time the client went without an acknowledged write within [from, to]: from `from`
 * (the fault) to the first ack after it, between consecutive acks, and from the last ack to `to`.
 * Acks are ms since the epoch.
 */
export function longestGapMs(ackTimes: readonly number[], from: number, to: number): number {
  const points = [from, ...ackTimes.filter((t) => t > from && t < to).sort((a, b) => a - b), to];
  let longest = 0;
  for (let i = 1; i < points.length; i++) longest = Math.max(longest, points[i]! - points[i - 1]!);
  return Math.round(longest);
}

/** Which acknowledged writes a node lacks, and which it holds more than once. */
export function compareRows(acknowledged: readonly number[], rows: readonly number[]): { lost: number[]; duplicated: number[] } {
  const counts = new Map<number, number>();
  for (const r of rows) counts.set(r, (counts.get(r) ?? 0) + 1);
  return {
    lost: acknowledged.filter((seq) => !counts.has(seq)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([seq]) => seq),
  };
}

/** Who serves, from each running host's latest sample since a moment (load balancers' samples: `vip` is the tier's IP). */
export interface ServingView {
  /** Running database nodes that are writable. */
  writers: string[];
  /** Running database nodes holding the pair's floating IP. */
  ipHolders: string[];
  /** Running load balancers holding the tier's floating IP. */
  lbIpHolders: string[];
  /** One writer holding the pair's IP, and (with a tier) one load balancer holding the tier's IP. */
  serving: boolean;
}

/**
 * The latest sample after `since` of each host not in `down` (a powered-off host keeps its
 * addresses in the fixtures' kernel state, so it is left out, not sampled); undefined while a
 * running host has no sample after `since` yet.
 */
export function servingView(samples: readonly Sample[], nodes: readonly string[], loadBalancers: readonly string[], down: ReadonlySet<string>, since: number): ServingView | undefined {
  const latest = new Map<string, Sample>();
  for (const s of samples) {
    if (s.t <= since) continue;
    const seen = latest.get(s.node);
    if (!seen || seen.t <= s.t) latest.set(s.node, s);
  }
  const up = (names: readonly string[]) => names.filter((n) => !down.has(n));
  if ([...up(nodes), ...up(loadBalancers)].some((n) => !latest.has(n))) return undefined;
  const writers = up(nodes).filter((n) => latest.get(n)!.writable);
  const ipHolders = up(nodes).filter((n) => latest.get(n)!.vip);
  const lbIpHolders = up(loadBalancers).filter((n) => latest.get(n)!.vip);
  const serving = writers.length === 1 && ipHolders.length === 1 && ipHolders[0] === writers[0] && (loadBalancers.length === 0 || lbIpHolders.length === 1);
  return { writers, ipHolders, lbIpHolders, serving };
}

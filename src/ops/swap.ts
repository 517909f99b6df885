// swap: a controlled switchover of the writable role and the floating IP, in the order the best
// tools converge on. Pre-flight (nothing touched), pre-sync, freeze the old writer (bypass accounts
// locked, read_only ON, their sessions killed; after a grace period every client connection), wait
// until the target applied exactly the old writer's final GTID position, then move the IP through
// Heartbeat (hb_takeover on the target: the old node takes the IP down and freezes, the target's
// duet-writer start makes it writable and the IP comes up with a gratuitous ARP), record the new
// writer in haresources, unlock. Every changing step is journaled first; any failure before the
// target is the writer undoes the freeze, and `--resume` finishes or rolls back an interrupted swap.
import { randomUUID } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import { audit, auditSql } from '../audit.ts';
import { afterFirstChange, ApplyError, HostStateError, ReplicationError, UsageError } from '../errors.ts';
import type { Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';
import { peerOf } from '../inventory/model.ts';
import { binlogOffAround, query, readOnlyBypassers, readReplicationSettings } from '../mysql/dao.ts';
import {
  clientConnectionIds,
  duetAccounts,
  killConnection,
  literalSql,
  lockAccount,
  lockedAccounts,
  selectReadOnly,
  sessionsOfUsers,
  type Account,
  type SqlStatement,
} from '../mysql/dialect.ts';
import { planHost } from '../plan/plan.ts';
import { desiredFiles, FENCE_USER, HARESOURCES_PATH, recordedWriter, WRITER_RESOURCE } from '../render/desired.ts';
import { applyHostPlan } from './apply.ts';
import { postSwapHook, preSwapHook } from './hooks.ts';
import { probeHost, readNodeState, type NodeConnections, type NodeLiveState } from './pair-state.ts';
import { planNode } from './provision.ts';
import { assessPair, readNodeExtras, readPairStatus, type NodeExtras, type PairStatus } from './status.ts';
import { Journal, readJournal, type JournalState } from './swap-journal.ts';

/** Heartbeat's own way to ask for the resources (Debian's path); the peer releases them first. */
export const HB_TAKEOVER = '/usr/share/heartbeat/hb_takeover all';
const POLL_MS = 50;
const RESUME_HINT = 'run status, then swap --resume: it finishes the swap or rolls it back';
const KILLED_GONE_TIMEOUT_MS = 10_000;

export interface SwapOptions {
  pair: PairSpec;
  /** The node that becomes the writer; undefined: the pair's other node. */
  target: string | undefined;
  dryRun: boolean;
  resume: boolean;
  /** Allows only what --help lists as safe to force (see swapProblems). */
  force: boolean;
  maxLagSeconds: number;
  graceMs: number;
  timeoutSeconds: number;
  journalPath: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Every SQL statement and remote command, in order (the dry run's output; --verbose). */
  trace: (line: string) => void;
}

export type SwapResult = 'swapped' | 'rolled back' | 'already the writer' | 'dry run' | 'nothing to resume';

export interface SwapReport {
  pair: string;
  from: string;
  to: string;
  outcome: SwapResult;
  /** From read_only ON on the old writer to the target writable and holding the floating IP. */
  freeze_ms?: number;
  steps: Array<{ step: string; ms: number }>;
  notes: string[];
  status: PairStatus;
}

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

/** Runs statements and commands for a swap; in a dry run only what reads, printing everything. */
class SwapIo {
  /** While polling, only the first round is traced. */
  #muted = false;
  /** What changed since the last auditChanges(): node name and statement or command, in order. */
  #changed: Array<[node: string, change: string]> = [];

  constructor(
    private readonly conn: NodeConnections,
    readonly dryRun: boolean,
    private readonly output: (line: string) => void,
  ) {}

  trace(line: string): void {
    if (!this.#muted) this.output(line);
  }

  note(text: string): void {
    this.trace(`# ${text}`);
  }

  /** `read`s run in a dry run too; `change`s and `wait`s are only printed there. */
  async sql(node: NodeSpec, statement: SqlStatement | string, effect: 'read' | 'change' | 'wait'): Promise<RowDataPacket[]> {
    this.trace(`${node.name} SQL> ${typeof statement === 'string' ? statement : literalSql(statement)}`);
    if (this.dryRun && effect !== 'read') return [];
    const rows = await query(await this.conn.mysql(node), statement);
    if (effect === 'change') this.#changed.push([node.name, auditSql(statement)]);
    return rows;
  }

  async command(node: NodeSpec, command: string): Promise<void> {
    this.trace(`${node.name} $ ${command}`);
    if (this.dryRun) return;
    await (await this.conn.ssh(node)).run(command);
    this.#changed.push([node.name, `$ ${command}`]);
  }

  /** The audit log's entries for what changed since the last call: one per node, under `phase`. */
  auditChanges(phase: string): void {
    const nodes = [...new Set(this.#changed.map(([node]) => node))];
    for (const node of nodes) {
      const statements = this.#changed.filter(([n]) => n === node).map(([, change]) => change);
      audit({ host: node, phase, kind: 'sql', what: `${phase}: ${statements.length} change(s)`, statements });
    }
    this.#changed = [];
  }

  async holdsVip(pair: PairSpec, node: NodeSpec): Promise<boolean> {
    this.trace(`${node.name} $ (probe: daemons and addresses)`);
    return (await probeHost(await this.conn.ssh(node))).addresses.includes(pair.vip.address);
  }

  async sleep(ms: number): Promise<void> {
    this.note(`wait ${ms} ms`);
    if (!this.dryRun) await new Promise((r) => setTimeout(r, ms));
  }

  /** Repeats `check` until it is true; a dry run prints one round. */
  async waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    this.note(`repeat every ${POLL_MS} ms, up to ${timeoutMs / 1000} s, until ${what}:`);
    if (this.dryRun) {
      await check();
      return;
    }
    const deadline = Date.now() + timeoutMs;
    try {
      while (!(await check())) {
        this.#muted = true;
        if (Date.now() > deadline) throw new ReplicationError(`gave up after ${timeoutMs / 1000} s waiting until ${what}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } finally {
      this.#muted = false;
    }
  }
}

interface SwapRun {
  inv: Inventory;
  pair: PairSpec;
  from: NodeSpec;
  to: NodeSpec;
  conn: NodeConnections;
  io: SwapIo;
  journal: Journal | undefined;
  opts: SwapOptions;
  steps: Array<{ step: string; ms: number }>;
  notes: string[];
}

export async function swap(inv: Inventory, conn: NodeConnections, opts: SwapOptions): Promise<SwapReport> {
  const { pair } = opts;
  const last = readJournal(opts.journalPath);
  const unfinished = last && !last.end ? last : undefined;
  if (opts.resume) return unfinished ? resume(inv, conn, opts, unfinished) : finished(conn, opts, last, 'nothing to resume');
  if (unfinished) {
    throw new UsageError(`a swap of pair ${pair.name} from ${unfinished.begin.from} to ${unfinished.begin.to} did not finish (${opts.journalPath})`, {
      hint: 'run swap --resume: it finishes the swap or rolls it back, and leaves one writer holding the floating IP',
    });
  }

  const facts = await readNodeFacts(conn, pair);
  const writer = pair.nodes.find((n) => facts.get(n.name)!.live.holdsVip && facts.get(n.name)!.live.mysql?.readOnly === false);
  const to = opts.target === undefined ? (writer ? peerOf(pair, writer) : undefined) : pair.nodes.find((n) => n.name === opts.target);
  if (!to) {
    throw new UsageError(opts.target === undefined ? `pair ${pair.name} has no writer holding the floating IP: name the node to make the writer` : `${opts.target} is not a node of pair ${pair.name}`);
  }
  const from = peerOf(pair, to);
  const run: SwapRun = { inv, pair, from, to, conn, io: new SwapIo(conn, opts.dryRun, opts.trace), journal: undefined, opts, steps: [], notes: [] };
  if (writer?.name === to.name) return alreadyWriter(run, facts);

  const problems = swapProblems(pair, from, to, facts, opts.maxLagSeconds);
  const blocking = problems.filter((p) => !(p.forceable && opts.force));
  if (blocking.length > 0) {
    const forceable = blocking.every((p) => p.forceable);
    throw new ReplicationError(`swap of pair ${pair.name} refused, nothing was changed:\n  - ${blocking.map((p) => p.message).join('\n  - ')}`, {
      hint: forceable ? '--force accepts these (see --help)' : 'fix these first; status shows the pair',
    });
  }
  for (const p of problems) run.notes.push(`forced: ${p.message}`);
  const locked = await accountsToLock(run);
  if (locked.length > 0) run.notes.push(`accounts that bypass read_only, locked during the freeze: ${locked.map((a) => `${a.user}@${a.host}`).join(', ')}`);

  if (opts.dryRun) {
    run.io.note(`pre-flight passed: swap pair ${pair.name} from ${from.name} to ${to.name}`);
    if (inv.hooks?.preSwap) run.io.note(`pre_swap hook on this machine (a failure aborts here): ${inv.hooks.preSwap.run}`);
    await forward(run, locked);
    if (inv.hooks?.postSwap) run.io.note(`post_swap hook on this machine (a failure only warns): ${inv.hooks.postSwap.run}`);
    run.io.note(`on a failure before ${to.name} is writable: ${from.name} read_only OFF (or ${HB_TAKEOVER} on it once the IP moved), accounts unlocked`);
    return { ...(await finished(conn, opts, undefined, 'dry run')), from: from.name, to: to.name, notes: run.notes };
  }

  await preSwapHook(inv, pair, from, to, opts.log);
  run.journal = new Journal(opts.journalPath);
  run.journal.append({ event: 'begin', swap: randomUUID(), cluster: inv.cluster, pair: pair.name, from: from.name, to: to.name, at: new Date().toISOString() });
  let freezeMs: number;
  try {
    freezeMs = await forward(run, locked);
  } catch (err) {
    const steps = readJournal(opts.journalPath)!;
    const cause = err instanceof Error ? err.message : String(err);
    opts.log(`${pair.name}: swap failed: ${cause}`);
    // From here on the pair has been changed: whatever fails is an ApplyError (exit 5), never "nothing changed".
    const outcome = await afterFirstChange(`swap of pair ${pair.name} failed (${cause}), and so did the rollback`, () => finishOrRollBack(run, steps, cause), RESUME_HINT);
    if (outcome === 'swapped') return afterSwap(run, undefined);
    throw new ApplyError(`swap of pair ${pair.name} failed (${cause}); rolled back: ${from.name} is the writer and holds the floating IP`, {
      hint: 'status shows the pair; nothing else needs undoing',
    });
  }
  return afterSwap(run, freezeMs);
}

/** The post_swap hook (a failure is a note: the swap stands), then the report. */
async function afterSwap(run: SwapRun, freezeMs: number | undefined): Promise<SwapReport> {
  const warning = await postSwapHook(run.inv, run.pair, run.from, run.to, run.opts.log);
  if (warning) run.notes.push(warning);
  return report(run, 'swapped', freezeMs);
}

/** The steps from pre-sync to unlock; returns the freeze time in ms. */
async function forward(run: SwapRun, locked: Account[]): Promise<number> {
  const { io, from, to, opts } = run;
  const timeoutMs = opts.timeoutSeconds * 1000;
  const dialect = (await run.conn.mysql(from)).dialect;

  await timed(run, 'pre-sync', async () => {
    io.note(`pre-sync: ${to.name} catches up while ${from.name} still takes writes`);
    await waitApplied(run, await binlogPosition(run), 'pre-sync');
  });

  let frozenAt = 0;
  await timed(run, 'freeze', async () => {
    run.journal?.step('freeze', { locked });
    if (locked.length > 0) {
      // Not binlogged: the target keeps these accounts unlocked, ready for the application.
      await notBinlogged(run, locked.map((account) => lockAccount(account, true)));
    }
    frozenAt = performance.now();
    await io.sql(from, dialect.setReadOnly(true), 'change');
    // Only sessions of accounts that bypass read_only can still write: end them before the final position is read.
    if (locked.length > 0) await killAndWait(run, sessionsOfUsers([...new Set(locked.map((a) => a.user))]));
  });

  await timed(run, 'kill clients', async () => {
    run.journal?.step('kill clients');
    await io.sleep(opts.graceMs);
    for (const row of await io.sql(from, clientConnectionIds(duetAccounts(run.inv.ssh.user)), 'read')) {
      await io.sql(from, killConnection(Number(row.ID)), 'change').catch(() => []);
    }
  });

  await timed(run, 'catch up', async () => {
    const position = await binlogPosition(run);
    run.journal?.step('catch up', { position });
    await waitApplied(run, position, 'the final position');
  });

  let freezeMs = 0;
  await timed(run, 'move', async () => {
    run.journal?.step('move');
    await io.command(to, HB_TAKEOVER);
    await io.waitUntil(`${to.name} is writable and holds the floating IP`, timeoutMs, async () => {
      const [row] = await io.sql(to, selectReadOnly, 'read');
      const holdsVip = await io.holdsVip(run.pair, to);
      return Number(Object.values(row ?? {})[0]) === 0 && holdsVip;
    });
    freezeMs = Math.round(performance.now() - frozenAt);
  });

  await timed(run, 'record', async () => {
    run.journal?.step('record');
    await recordOnHosts(run, to);
  });
  await timed(run, 'unlock', async () => {
    run.journal?.step('unlock');
    await unlock(run, locked);
  });
  run.journal?.append({ event: 'end', outcome: 'swapped', at: new Date().toISOString(), freezeMs });
  auditRole(run, run.to, `${run.to.name} is the writer of pair ${run.pair.name}, swapped from ${run.from.name} (writes frozen ${freezeMs} ms)`);
  return freezeMs;
}

async function timed(run: SwapRun, step: string, body: () => Promise<void>): Promise<void> {
  const started = performance.now();
  run.opts.log(`${run.pair.name}: ${step}`);
  try {
    await body();
  } finally {
    run.io.auditChanges(`swap ${step}`);
  }
  run.steps.push({ step, ms: Math.round(performance.now() - started) });
}

/** The audit log's record of where the write role ended up. */
function auditRole(run: SwapRun, writer: NodeSpec, what: string): void {
  audit({ host: writer.name, phase: 'swap', kind: 'role', pair: run.pair.name, writer: writer.name, what });
}

/** What the old writer has written to its binlog: the position the target must apply. */
async function binlogPosition(run: SwapRun): Promise<string> {
  const [row] = await run.io.sql(run.from, (await run.conn.mysql(run.from)).dialect.instanceVariables, 'read');
  return String(row?.gtid_binlog ?? '').replace(/\s+/g, '');
}

async function waitApplied(run: SwapRun, position: string, what: string): Promise<void> {
  const { dialect } = await run.conn.mysql(run.to);
  const [row] = await run.io.sql(run.to, dialect.waitForGtid(position, run.opts.timeoutSeconds), 'wait');
  if (!run.io.dryRun && Number(row?.reached) !== 1) {
    throw new ReplicationError(`${run.to.name} did not apply ${what} of ${run.from.name} (${position}) within ${run.opts.timeoutSeconds} s`, { host: run.to.name });
  }
}

/** Kills the sessions `list` returns on the old writer, then waits until they are gone. */
async function killAndWait(run: SwapRun, list: SqlStatement): Promise<void> {
  for (const row of await run.io.sql(run.from, list, 'read')) await run.io.sql(run.from, killConnection(Number(row.ID)), 'change').catch(() => []);
  await run.io.waitUntil('those sessions are gone', KILLED_GONE_TIMEOUT_MS, async () => (await run.io.sql(run.from, list, 'read')).length === 0);
}

/** Accounts that can write through read_only on the old writer (except duet's own), not locked already. */
async function accountsToLock(run: SwapRun): Promise<Account[]> {
  const session = await run.conn.mysql(run.from);
  // The peer's fence account (READ_ONLY ADMIN, to set read_only) is duet's own too: the move itself uses it.
  const grantees = await readOnlyBypassers(session, [...duetAccounts(run.inv.ssh.user), { user: FENCE_USER, host: run.to.address }]);
  const alreadyLocked = new Set((await query(session, lockedAccounts(session.dialect.flavor))).map((r) => `'${String(r.user)}'@'${String(r.host)}'`));
  return grantees.filter((g) => !alreadyLocked.has(g)).map(parseGrantee);
}

function parseGrantee(grantee: string): Account {
  const m = /^'(.*)'@'(.*)'$/.exec(grantee);
  if (!m) throw new HostStateError(`cannot read the grantee ${grantee}`);
  return { user: m[1]!, host: m[2]! };
}

async function unlock(run: SwapRun, locked: Account[]): Promise<void> {
  if (locked.length === 0) return;
  await notBinlogged(run, locked.map((account) => lockAccount(account, false)));
}

/** Runs statements on the old writer with its binlog off, turning it back on whatever happens. */
async function notBinlogged(run: SwapRun, statements: Array<Parameters<SwapIo['sql']>[1]>): Promise<void> {
  const { dialect } = await run.conn.mysql(run.from);
  await binlogOffAround(dialect, (sql) => run.io.sql(run.from, sql, 'change'), async () => {
    for (const statement of statements) await run.io.sql(run.from, statement, 'change');
  });
}

/**
 * Writes haresources naming `writer` on both nodes (what Heartbeat gives the IP to when both start
 * together, and what provision keeps), the way provision installs files.
 */
async function recordOnHosts(run: SwapRun, writer: NodeSpec): Promise<void> {
  for (const node of run.pair.nodes) {
    const file = desiredFiles(run.inv, run.pair, node, { writer: writer.name }).find((f) => f.path === HARESOURCES_PATH)!;
    run.io.trace(`${node.name} $ install ${HARESOURCES_PATH} naming ${writer.name} (staged beside it, renamed into place), then reload heartbeat`);
    if (run.io.dryRun) continue;
    const ssh = await run.conn.ssh(node);
    const { facts } = await planNode(run.inv, ssh, run.pair, node);
    await applyHostPlan(planHost(node.name, [file], facts.files, run.inv.secrets), { ssh, facts, flavor: run.inv.mysql.flavor, log: run.opts.log, phase: 'swap record' });
  }
}

/**
 * After a failure or a crash: when the target became the writer (the move went through), finish
 * (record, unlock); otherwise give the old writer its role back: read_only OFF where it still holds
 * the floating IP, else through Heartbeat. Either way ends with one writer holding the IP.
 */
async function finishOrRollBack(run: SwapRun, journal: JournalState, cause: string): Promise<'swapped' | 'rolled back'> {
  const { pair, from, to, io, opts } = run;
  const timeoutMs = opts.timeoutSeconds * 1000;
  const isWriter = async (node: NodeSpec) => {
    const state = await readNodeState(run.conn, pair, node);
    return state.holdsVip && state.mysql?.readOnly === false;
  };
  if (journal.steps.includes('move')) {
    await settle(run, isWriter);
    if ((await isWriter(to)) && !(await readNodeState(run.conn, pair, from)).holdsVip) {
      opts.log(`${pair.name}: ${to.name} is the writer: finishing the swap`);
      if (!journal.steps.includes('record')) run.journal?.step('record');
      await recordOnHosts(run, to);
      run.journal?.step('unlock');
      await unlock(run, journal.locked);
      run.journal?.append({ event: 'end', outcome: 'swapped', at: new Date().toISOString() });
      io.auditChanges('swap finish');
      auditRole(run, to, `${to.name} is the writer of pair ${pair.name}, swapped from ${from.name} (finished after: ${cause})`);
      return 'swapped';
    }
  }
  opts.log(`${pair.name}: rolling back: ${from.name} becomes the writer again`);
  const fromState = await readNodeState(run.conn, pair, from);
  const toState = await readNodeState(run.conn, pair, to);
  if (fromState.holdsVip && !toState.holdsVip) {
    if (fromState.mysql?.readOnly !== false) await io.sql(from, (await run.conn.mysql(from)).dialect.setReadOnly(false), 'change');
  } else {
    await io.command(from, HB_TAKEOVER);
    await io.waitUntil(`${from.name} is writable and holds the floating IP`, timeoutMs, () => isWriter(from));
  }
  const target = await readNodeState(run.conn, pair, to);
  if (target.mysql?.readOnly === false && !target.holdsVip) await io.sql(to, (await run.conn.mysql(to)).dialect.setReadOnly(true), 'change');
  await unlock(run, journal.locked);
  io.auditChanges('swap rollback');
  if (!(await isWriter(from)) || (await readNodeState(run.conn, pair, to)).holdsVip) {
    throw new ApplyError(`swap of pair ${pair.name} failed (${cause}) and the rollback did not leave ${from.name} as the only writer holding the floating IP`, {
      hint: RESUME_HINT,
    });
  }
  run.journal?.append({ event: 'end', outcome: 'rolled back', at: new Date().toISOString(), error: cause });
  auditRole(run, from, `swap of pair ${pair.name} to ${to.name} rolled back: ${from.name} is the writer (${cause})`);
  return 'rolled back';
}

/**
 * Once a move was asked for, Heartbeat may still be carrying it out (its standby handshake takes a
 * few keepalives): wait until the target is the writer, or until nothing has changed for a while.
 */
async function settle(run: SwapRun, isWriter: (node: NodeSpec) => Promise<boolean>): Promise<void> {
  const quietMs = Math.max(3, 4 * run.pair.heartbeat.keepalive) * 1000;
  const snapshot = async () =>
    JSON.stringify(await Promise.all(run.pair.nodes.map(async (n) => {
      const state = await readNodeState(run.conn, run.pair, n);
      return [state.holdsVip, state.mysql?.readOnly];
    })));
  let last = await snapshot();
  let since = Date.now();
  const deadline = Date.now() + run.opts.timeoutSeconds * 1000;
  while (Date.now() < deadline && !(await isWriter(run.to))) {
    const now = await snapshot();
    if (now !== last) [last, since] = [now, Date.now()];
    else if (Date.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function resume(inv: Inventory, conn: NodeConnections, opts: SwapOptions, journal: JournalState): Promise<SwapReport> {
  const { pair } = opts;
  const from = pair.nodes.find((n) => n.name === journal.begin.from);
  const to = pair.nodes.find((n) => n.name === journal.begin.to);
  if (!from || !to || journal.begin.pair !== pair.name) {
    throw new UsageError(`the journal ${opts.journalPath} is about pair ${journal.begin.pair} (${journal.begin.from} -> ${journal.begin.to}), not this inventory's pair ${pair.name}`);
  }
  const run: SwapRun = { inv, pair, from, to, conn, io: new SwapIo(conn, false, opts.trace), journal: new Journal(opts.journalPath), opts, steps: [], notes: [] };
  opts.log(`${pair.name}: resuming the swap from ${from.name} to ${to.name} (steps begun: ${journal.steps.join(', ') || 'none'})`);
  const outcome = await afterFirstChange(`resuming the swap of pair ${pair.name} failed`, () => finishOrRollBack(run, journal, 'the controller stopped mid-swap'), RESUME_HINT);
  run.notes.push(outcome === 'swapped' ? `the swap went through: ${to.name} is the writer` : `rolled back: ${from.name} is the writer`);
  return report(run, outcome, undefined);
}

/** Swapping to the node that already is the writer: only make sure haresources records it. */
async function alreadyWriter(run: SwapRun, facts: Map<string, NodeFacts>): Promise<SwapReport> {
  if (run.pair.nodes.some((n) => recordedWriter(run.pair, facts.get(n.name)!.extras.haresources) !== run.to.name)) {
    await afterFirstChange(`recording ${run.to.name} as the writer in haresources failed`, () => recordOnHosts(run, run.to));
    run.notes.push(`recorded ${run.to.name} as the writer in haresources`);
  }
  return report(run, 'already the writer', undefined);
}

async function report(run: SwapRun, outcome: SwapResult, freezeMs: number | undefined): Promise<SwapReport> {
  return {
    pair: run.pair.name,
    from: run.from.name,
    to: run.to.name,
    outcome,
    ...(freezeMs === undefined ? {} : { freeze_ms: freezeMs }),
    steps: run.steps,
    notes: run.notes,
    status: await readPairStatus(run.conn, run.pair),
  };
}

async function finished(conn: NodeConnections, opts: SwapOptions, last: JournalState | undefined, outcome: SwapResult): Promise<SwapReport> {
  return {
    pair: opts.pair.name,
    from: last?.begin.from ?? '',
    to: last?.begin.to ?? '',
    outcome,
    steps: [],
    notes: last?.end ? [`the last swap (${last.begin.from} -> ${last.begin.to}) ended: ${last.end.outcome}`] : [],
    status: await readPairStatus(conn, opts.pair),
  };
}

async function readNodeFacts(conn: NodeConnections, pair: PairSpec): Promise<Map<string, NodeFacts>> {
  const entries = await Promise.all(
    pair.nodes.map(async (node): Promise<[string, NodeFacts]> => {
      const live = await readNodeState(conn, pair, node);
      const extras = await readNodeExtras(conn, live);
      const filters = live.mysql && (await readReplicationSettings(await conn.mysql(node))).binlogFilters;
      const binlogFilters = filters && `do=${filters.doDb.join(',')}; ignore=${filters.ignoreDb.join(',')}`;
      return [node.name, { live, extras, binlogFilters }];
    }),
  );
  return new Map(entries);
}


// swap: a controlled switchover of the writable role and the floating IP, as a declared list of
// steps (see SWAP below), each with the undo that puts it back, run and journaled by StepRunner
// (swap-runner.ts). Pre-flight (swap-preflight.ts, nothing touched), pre-sync, a maintenance window
// on both nodes (the monitors stand still), freeze the old writer (bypass accounts locked; a holder
// process there takes FLUSH TABLES WITH READ LOCK, so writes wait instead of failing: see
// swap-freeze.ts), wait until the target applied the final GTID position, arm the holder, make the
// target writable (new epoch), the IP down on the old writer and up on the target (gratuitous ARP),
// then fence the old writer (read_only ON, its client connections killed, the lock given up): the
// freeze ends and what waited reconnects to the target. Then Heartbeat's view brought in line
// (hb_takeover finds both resources running on the target already: nothing moves twice),
// haresources recorded, the window closed, unlock. Before the IP is up on the target a failure (or
// `--resume` after a crash) undoes every step begun; after it, the swap is finished. A controller
// lost mid-freeze leaves the decision to the holder: thaw before arm, fence after.
import { randomUUID } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import { audit, auditSql } from '../audit.ts';
import { afterFirstChange, ApplyError, HostStateError, ReplicationError, UsageError } from '../errors.ts';
import type { Inventory, NodeSpec, PairSpec } from '../inventory/model.ts';
import { peerOf } from '../inventory/model.ts';
import { binlogOffAround, query, readOnlyBypassers, readReplicationSettings } from '../mysql/dao.ts';
import {
  clientConnectionCommands,
  clientConnectionIds,
  duetAccounts,
  grantWriterRole,
  killConnection,
  literalSql,
  lockAccount,
  lockedAccounts,
  useDuetSchema,
  writerRoleScriptSql,
  type Account,
  type SqlStatement,
} from '../mysql/dialect.ts';
import { planHost } from '../plan/plan.ts';
import { desiredFiles, FENCE_USER, HARESOURCES_PATH, recordedWriter, WRITER_SINCE_PATH } from '../render/desired.ts';
import { applyHostPlan } from './apply.ts';
import { postSwapHook, preSwapHook } from './hooks.ts';
import { probeHost, readNodeState, type NodeConnections } from './pair-state.ts';
import { planNode } from './provision.ts';
import { maintenanceCommand } from './services.ts';
import { readNodeExtras, readPairStatus, type PairStatus } from './status.ts';
import { Journal, readJournal, SWAP_STEPS, type JournalState, type SwapStep } from './swap-journal.ts';
import { swapProblems, type NodeFacts } from './swap-preflight.ts';
import { FreezeHolder, holderCommand, type HolderScript } from './swap-freeze.ts';
import { StepRunner, type Step } from './swap-runner.ts';

export { swapProblems, type NodeFacts, type SwapProblem } from './swap-preflight.ts';

/** Heartbeat's own way to ask for the resources (Debian's path); the peer releases them first. */
export const HB_TAKEOVER = '/usr/share/heartbeat/hb_takeover all';
/** Heartbeat's gratuitous ARP sender, the one IPaddr uses (its folder differs between releases). */
const SEND_ARP_PATHS = ['/usr/libexec/heartbeat/send_arp', '/usr/lib/heartbeat/send_arp'];
/** Which resources Heartbeat thinks this node holds: all, local, foreign, none or transition. */
const RSC_STATUS = 'cl_status rscstatus';
const POLL_MS = 50;
const KILL_POLL_MS = 10;
const RESUME_HINT = 'run status, then swap --resume: it finishes the swap or rolls it back';
const KILLED_GONE_TIMEOUT_MS = 10_000;
/** Once it is done the swap stands (later failures finish it). */
const COMMIT_STEP: SwapStep = 'vip up';
/** The steps clients wait for: from the freeze to the old writer fenced, the target writable and holding the IP. */
const CRITICAL_PATH: SwapStep[] = ['freeze', 'catch up', 'promote', 'vip down', 'vip up', 'fence'];
/** How long the freeze's holder may take to answer a word (it runs one or two statements). */
const HOLDER_REPLY_MS = 10_000;

export interface SwapOptions {
  pair: PairSpec;
  /** The node that becomes the writer; undefined: the pair's other node. */
  target: string | undefined;
  dryRun: boolean;
  resume: boolean;
  /** Allows only what --help lists as safe to force (see swapProblems). */
  force: boolean;
  maxLagSeconds: number;
  /** How long statements running on the old writer when the freeze begins may go on before they are killed (writes wait meanwhile). */
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
  /** From the freeze (writes wait on the old writer) to its fence (they fail there and reconnect to the target, writable and holding the floating IP). */
  freeze_ms?: number;
  /** The steps of the freeze (CRITICAL_PATH) with their ms; they add up to about freeze_ms. */
  critical_path?: Array<{ step: string; ms: number }>;
  steps: Array<{ step: string; ms: number }>;
  notes: string[];
  status: PairStatus;
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

  /** A command that only reads: it runs in a dry run too. Its output. */
  async read(node: NodeSpec, command: string): Promise<string> {
    this.trace(`${node.name} $ ${command}`);
    return (await (await this.conn.ssh(node)).run(command)).stdout;
  }

  async holdsVip(pair: PairSpec, node: NodeSpec): Promise<boolean> {
    this.trace(`${node.name} $ (probe: daemons and addresses)`);
    return (await probeHost(await this.conn.ssh(node))).addresses.includes(pair.vip.address);
  }

  /** Repeats `check` until it is true; a dry run prints one round. */
  async waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, pollMs = POLL_MS): Promise<void> {
    this.note(`repeat every ${pollMs} ms, up to ${timeoutMs / 1000} s, until ${what}:`);
    if (this.dryRun) {
      await check();
      return;
    }
    const deadline = Date.now() + timeoutMs;
    try {
      while (!(await check())) {
        this.#muted = true;
        if (Date.now() > deadline) throw new ReplicationError(`gave up after ${timeoutMs / 1000} s waiting until ${what}`);
        await new Promise((r) => setTimeout(r, pollMs));
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
  /** Accounts the freeze locks on the old writer (from the journal on a resume). */
  locked: Account[];
  /** performance.now() at read_only ON; freezeMs once the target is writable and holds the IP. */
  frozenAt: number;
  freezeMs: number | undefined;
  /** The freeze's holder on the old writer, while this controller has it (not on a resume). */
  holder?: FreezeHolder;
  steps: Array<{ step: string; ms: number }>;
  notes: string[];
}

/** The floating IP off this node's interface (what `IPaddr stop` does, without its shell library). Idempotent. */
function vipOffCommand(pair: PairSpec): string {
  const { address, prefixLength, interface: dev } = pair.vip;
  return `if ip -4 -o addr show dev ${dev} | grep -q ' ${address}/'; then ip addr del ${address}/${prefixLength} dev ${dev}; fi`;
}

/**
 * The floating IP off the old writer's interface, a copy kept on its loopback with scope host until
 * the fence: the connections of clients waiting there were made to that address, and without it the
 * host cannot send them anything (the kill, the error), so they would wait out their own timeouts.
 * The interface answers ARP only for addresses of global scope from here (arp_ignore 3): the copy
 * draws no traffic, and no probe counts it as holding the address (those read scope global).
 */
function vipDownCommand(pair: PairSpec): string {
  const { address, interface: dev } = pair.vip;
  return (
    `sysctl -qw net.ipv4.conf.${dev}.arp_ignore=3 && ` +
    `{ ip -4 -o addr show dev lo | grep -q ' ${address}/' || ip addr add ${address}/32 dev lo scope host; } && ${vipOffCommand(pair)}`
  );
}

/** Drops the old writer's loopback copy of the floating IP (vipDownCommand). Idempotent. */
function loopbackCopyOffCommand(pair: PairSpec): string {
  return `if ip -4 -o addr show dev lo | grep -q ' ${pair.vip.address}/'; then ip addr del ${pair.vip.address}/32 dev lo; fi`;
}

/**
 * What `IPaddr start` does, without its shell library (100-300 ms on the critical path): the address
 * as the alias IF:0 (where IPaddr's status and stop find it), one gratuitous ARP sent before the
 * command returns, more in the background for a client that missed it. Idempotent. send_arp takes
 * about 70 ms to exit after its packets are out: the command returns once its pid file is gone
 * (written before the first packet, removed after the last), not when it exits.
 */
function vipUpCommand(pair: PairSpec): string {
  const { address, prefixLength, interface: dev } = pair.vip;
  const arp = (more: string) => `"$arp" ${more} ${dev} ${address} auto ${address} ffffffffffff </dev/null >/dev/null 2>&1`;
  const pidFile = `/run/duet-garp-${address}.pid`;
  const poll = (until: string) => `while ${until} && kill -0 $p 2>/dev/null && [ $n -lt 150 ]; do sleep 0.002; n=$((n+1)); done`;
  return (
    `for arp in ${SEND_ARP_PATHS.join(' ')}; do [ -x "$arp" ] && break; done; ` +
    `{ ip -4 -o addr show dev ${dev} | grep -q ' ${address}/' || ip addr add ${address}/${prefixLength} brd + dev ${dev} label ${dev}:0; } && ` +
    `rm -f ${pidFile} && { ${arp(`-i 10 -r 1 -p ${pidFile}`)} & p=$!; n=0; ${poll(`[ ! -e ${pidFile} ]`)}; ${poll(`[ -e ${pidFile} ]`)}; } && ` +
    `{ (${arp('-i 200 -r 5')} &) ; }`
  );
}

/** The holder of the freeze on the old writer (swap-freeze.ts). */
function holderScriptFor(run: SwapRun): HolderScript {
  const sql = writerRoleScriptSql(run.inv.mysql.flavor);
  return {
    client: sql.client,
    readOnlyOn: sql.readOnlyOn,
    readOnlyOff: sql.readOnlyOff,
    tail: loopbackCopyOffCommand(run.pair),
    clientConnections: clientConnectionIds(duetAccounts(run.inv.ssh.user)),
    lockWaitSeconds: Math.max(1, Math.ceil(run.opts.timeoutSeconds)),
    silenceSeconds: Math.max(5, Math.ceil(run.opts.timeoutSeconds) + 5),
  };
}

function holderOf(run: SwapRun): FreezeHolder {
  if (!run.holder) throw new ReplicationError(`the freeze on ${run.from.name} is not held by this controller`, { host: run.from.name, hint: RESUME_HINT });
  return run.holder;
}

/**
 * Past --grace: the connections that were running a statement when the freeze began and still run
 * one (what its lock waits for) are killed, until the holder holds the lock or gave up. Statements
 * that began since wait for the lock: they are left alone.
 */
async function killRunning(run: SwapRun, running: number[], held: Promise<void>): Promise<void> {
  let holding = false;
  held.then(() => (holding = true), () => (holding = true));
  const list = clientConnectionCommands(duetAccounts(run.inv.ssh.user));
  while (!holding) {
    // Through SwapIo, like every other statement of the swap: traced, and the kills audited.
    const rows = await run.io.sql(run.from, list, 'read').catch((): RowDataPacket[] => []);
    for (const row of rows.filter((r) => r.COMMAND === 'Query' && running.includes(Number(r.ID)))) await run.io.sql(run.from, killConnection(Number(row.ID)), 'change').catch(() => []);
    await new Promise((r) => setTimeout(r, KILL_POLL_MS));
  }
}

/**
 * The old writer takes writes again: only while it holds the floating IP alone (every later step is
 * undone by then). Its holder, if this controller still has it, gives the lock up; else (a resume)
 * read_only goes OFF.
 */
async function reopen(run: SwapRun): Promise<void> {
  const { io, from, to, pair } = run;
  if (!(await io.holdsVip(pair, from)) || (await io.holdsVip(pair, to))) {
    throw new ApplyError(`not making ${from.name} writable again: it does not hold the floating IP alone`, { host: from.name, hint: RESUME_HINT });
  }
  if (run.holder?.alive) {
    io.trace(`${from.name} > thaw (UNLOCK TABLES)`);
    await run.holder.send('thaw', from.name, HOLDER_REPLY_MS);
  }
  await io.sql(from, (await run.conn.mysql(from)).dialect.setReadOnly(false), 'change');
}

const onBoth = async (run: SwapRun, command: string) => {
  await Promise.all(run.pair.nodes.map((n) => run.io.command(n, command)));
};

/**
 * The swap, step by step. Each undo is idempotent (a crash may leave its step half done) and runs
 * only on the way back, in reverse order, before COMMIT_STEP is done: so an undo can count on every
 * later step being undone already.
 */
const SWAP: Array<Step<SwapRun>> = [
  {
    name: 'pre-sync',
    run: async (run) => {
      run.io.note(`pre-sync: ${run.to.name} catches up while ${run.from.name} still takes writes`);
      await waitApplied(run, run.from, run.to, await binlogPosition(run, run.from), 'pre-sync');
    },
  },
  {
    // The monitors take no action meanwhile: they would demote the target writable without the IP,
    // or take the IP on both nodes for a failure. Long enough for a swap that waits its timeouts;
    // a controller that dies leaves it to expire.
    name: 'maintenance',
    run: (run) => onBoth(run, maintenanceCommand(2 * run.opts.timeoutSeconds + 60)),
    undo: (run) => onBoth(run, maintenanceCommand(0)),
  },
  {
    // Writes wait from here (they do not fail): a holder on the old writer takes FLUSH TABLES WITH
    // READ LOCK (swap-freeze.ts). Statements still running may finish within --grace; then the
    // running ones are killed (their clients reconnect and wait too). Accounts that bypass read_only
    // are locked first (not binlogged), so none logs in to write once the lock is given up.
    name: 'freeze',
    journal: (run) => ({ locked: run.locked }),
    run: async (run) => {
      const { io, from } = run;
      if (run.locked.length > 0) await notBinlogged(run, run.locked.map((account) => lockAccount(account, true)));
      // Statements running now are what the lock may wait for (killed past --grace).
      const running = (await io.sql(from, clientConnectionCommands(duetAccounts(run.inv.ssh.user)), 'read')).filter((r) => r.COMMAND === 'Query').map((r) => Number(r.ID));
      const script = holderScriptFor(run);
      io.trace(`${from.name} $ (the freeze's holder, kept running:) ${holderCommand(script)}`);
      io.trace(`${from.name} > freeze (FLUSH TABLES WITH READ LOCK)`);
      if (io.dryRun) return;
      run.holder = await FreezeHolder.start(await run.conn.ssh(from), script, from.name, HOLDER_REPLY_MS);
      run.frozenAt = performance.now();
      const frozen = run.holder.send('freeze', from.name, run.opts.timeoutSeconds * 1000 + HOLDER_REPLY_MS);
      const timer = running.length > 0 ? setTimeout(() => void killRunning(run, running, frozen), run.opts.graceMs) : undefined;
      try {
        await frozen;
      } finally {
        clearTimeout(timer);
      }
    },
    undo: (run) => reopen(run).then(() => unlock(run)),
  },
  {
    // Nothing commits on the old writer any more: its final position is the one to apply.
    name: 'catch up',
    run: async (run) => {
      await waitApplied(run, run.from, run.to, await binlogPosition(run, run.from), 'the final position');
    },
  },
  {
    // The holder is armed first (from then on, losing the controller fences the old writer instead
    // of thawing it); then the target: a new epoch naming it, writable. No client reaches it yet.
    name: 'promote',
    run: async (run) => {
      const { io, to, from } = run;
      io.trace(`${from.name} > arm (the holder fences if the controller is lost from here)`);
      if (!io.dryRun) await holderOf(run).send('arm', from.name, HOLDER_REPLY_MS);
      await io.sql(to, useDuetSchema, 'change');
      for (const statement of grantWriterRole(to, from)) await io.sql(to, statement, 'change');
      await io.sql(to, (await run.conn.mysql(to)).dialect.setReadOnly(false), 'change');
    },
    undo: async (run) => {
      const { io, to, from } = run;
      await io.sql(to, (await run.conn.mysql(to)).dialect.setReadOnly(true), 'change');
      for (const row of await io.sql(to, clientConnectionIds(duetAccounts(run.inv.ssh.user)), 'read')) await io.sql(to, killConnection(Number(row.ID)), 'change').catch(() => []);
      // The old writer takes writes again, then applies whatever the target wrote (its epoch at
      // least) before it records a newer one.
      await reopen(run);
      await waitApplied(run, to, from, await binlogPosition(run, to), 'the position');
      await io.sql(from, useDuetSchema, 'change');
      for (const statement of grantWriterRole(from, to)) await io.sql(from, statement, 'change');
    },
  },
  {
    // The address leaves the old writer first, so at no moment do two nodes hold it; it comes up on
    // the target a few milliseconds later (next step). Clients wait on the old writer meanwhile.
    name: 'vip down',
    run: (run) => run.io.command(run.from, vipDownCommand(run.pair)),
    undo: (run) => run.io.command(run.from, `${vipUpCommand(run.pair)} && ${loopbackCopyOffCommand(run.pair)}`),
  },
  {
    // The address on the target, with a gratuitous ARP sent before the command returns (more in
    // the background) that leads the clients there. From here the swap stands.
    name: 'vip up',
    run: (run) => run.io.command(run.to, `date +%s > ${WRITER_SINCE_PATH} && ${vipUpCommand(run.pair)}`),
    undo: (run) => run.io.command(run.to, vipOffCommand(run.pair)),
  },
  {
    // The freeze ends: read_only ON on the old writer, its client connections killed, the lock
    // given up. What waited fails there and reconnects, to the target.
    name: 'fence',
    run: async (run) => {
      const { io, from } = run;
      if (io.dryRun || run.holder?.alive) {
        io.trace(`${from.name} > fence (read_only ON, client connections killed, UNLOCK TABLES)`);
        if (!io.dryRun) await holderOf(run).send('fence', from.name, HOLDER_REPLY_MS);
      } else {
        // A resume: the holder is gone (it fenced on its own once armed). Make sure of it.
        await io.sql(from, (await run.conn.mysql(from)).dialect.setReadOnly(true), 'change');
        await killAndWait(run, clientConnectionIds(duetAccounts(run.inv.ssh.user)));
        await io.command(from, loopbackCopyOffCommand(run.pair));
      }
      if (run.frozenAt > 0) run.freezeMs = Math.round(performance.now() - run.frozenAt);
    },
  },
  {
    // Heartbeat's view in line: its resource manager finds duet-writer and IPaddr running on the
    // target (status) and skips their start; the old node stops what already is stopped.
    name: 'align',
    run: async (run) => {
      const { io, to, from, pair } = run;
      await io.command(to, HB_TAKEOVER);
      await io.waitUntil(`Heartbeat on ${to.name} holds all resources and on ${from.name} none`, run.opts.timeoutSeconds * 1000, async () => {
        const [mine, theirs] = await Promise.all([io.read(to, RSC_STATUS), io.read(from, RSC_STATUS)]);
        return mine.trim() === 'all' && theirs.trim() === 'none';
      }, 200);
      if (!io.dryRun && (!(await io.holdsVip(pair, to)) || (await io.holdsVip(pair, from)))) {
        throw new ReplicationError(`after Heartbeat took the resources over, the floating IP is not on ${to.name} alone`, { host: to.name });
      }
    },
  },
  { name: 'record', run: (run) => recordOnHosts(run, run.to) },
  { name: 'maintenance end', run: (run) => onBoth(run, maintenanceCommand(0)) },
  { name: 'unlock', run: (run) => unlock(run) },
];

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
  const run = newRun(inv, conn, opts, from, to, opts.dryRun, undefined, []);
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
  run.locked = await accountsToLock(run);
  if (run.locked.length > 0) run.notes.push(`accounts that bypass read_only, locked during the freeze: ${run.locked.map((a) => `${a.user}@${a.host}`).join(', ')}`);

  if (opts.dryRun) {
    run.io.note(`pre-flight passed: swap pair ${pair.name} from ${from.name} to ${to.name}`);
    if (inv.hooks?.preSwap) run.io.note(`pre_swap hook on this machine (a failure aborts here): ${inv.hooks.preSwap.run}`);
    await runner(run).forward();
    if (inv.hooks?.postSwap) run.io.note(`post_swap hook on this machine (a failure only warns): ${inv.hooks.postSwap.run}`);
    run.io.note(`on a failure before ${COMMIT_STEP} is done, each step begun is undone, the last first (${from.name} writable again, holding the IP); after it, the swap is finished`);
    return { ...(await finished(conn, opts, undefined, 'dry run')), from: from.name, to: to.name, notes: run.notes };
  }

  await preSwapHook(inv, pair, from, to, opts.log);
  run.journal = new Journal(opts.journalPath);
  run.journal.append({ event: 'begin', swap: randomUUID(), cluster: inv.cluster, pair: pair.name, from: from.name, to: to.name, at: new Date().toISOString() });
  const steps = runner(run);
  try {
    await steps.forward();
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    opts.log(`${pair.name}: swap failed: ${cause}`);
    // From here on the pair has been changed: whatever fails is an ApplyError (exit 5), never "nothing changed".
    const outcome = await afterFirstChange(`swap of pair ${pair.name} failed (${cause}), and so did the ${steps.committed ? 'rest of the swap' : 'rollback'}`, () => recover(run, steps, cause), RESUME_HINT);
    if (outcome === 'swapped') return afterSwap(run);
    throw new ApplyError(`swap of pair ${pair.name} failed (${cause}); rolled back: ${from.name} is the writer and holds the floating IP`, {
      hint: 'status shows the pair; nothing else needs undoing',
    });
  }
  ended(run, 'swapped');
  return afterSwap(run);
}

function newRun(inv: Inventory, conn: NodeConnections, opts: SwapOptions, from: NodeSpec, to: NodeSpec, dryRun: boolean, journal: Journal | undefined, locked: Account[]): SwapRun {
  return { inv, pair: opts.pair, from, to, conn, io: new SwapIo(conn, dryRun, opts.trace), journal, opts, locked, frozenAt: 0, freezeMs: undefined, steps: [], notes: [] };
}

function runner(run: SwapRun, journal?: JournalState): StepRunner<SwapRun> {
  return new StepRunner(SWAP, COMMIT_STEP, run, run.journal, (name, body) => timed(run, name, body), journal && { begun: journal.steps, done: journal.done });
}

/** Finishes or undoes (StepRunner.recover), then checks and journals where the role ended up. */
async function recover(run: SwapRun, steps: StepRunner<SwapRun>, cause: string): Promise<'swapped' | 'rolled back'> {
  const { pair, from, to, opts } = run;
  opts.log(steps.committed ? `${pair.name}: ${to.name} is the writer: finishing the swap` : `${pair.name}: rolling back: ${from.name} becomes the writer again`);
  const outcome = await steps.recover();
  const writer = outcome === 'swapped' ? to : from;
  const [w, other] = await Promise.all([readNodeState(run.conn, pair, writer), readNodeState(run.conn, pair, peerOf(pair, writer))]);
  if (!w.holdsVip || w.mysql?.readOnly !== false || other.holdsVip || other.mysql?.readOnly === false) {
    throw new ApplyError(`swap of pair ${pair.name} (${cause}) did not leave ${writer.name} as the only writer holding the floating IP`, { hint: RESUME_HINT });
  }
  ended(run, outcome, cause);
  return outcome;
}

/** The journal's end line and the audit log's record of where the role is. */
function ended(run: SwapRun, outcome: 'swapped' | 'rolled back', cause?: string): void {
  const { pair, from, to } = run;
  run.journal?.append({ event: 'end', outcome, at: new Date().toISOString(), ...(run.freezeMs === undefined ? {} : { freezeMs: run.freezeMs }), ...(cause ? { error: cause } : {}) });
  if (outcome === 'swapped') {
    const how = cause ? `finished after: ${cause}` : `writes frozen ${run.freezeMs} ms`;
    auditRole(run, to, `${to.name} is the writer of pair ${pair.name}, swapped from ${from.name} (${how})`);
  } else auditRole(run, from, `swap of pair ${pair.name} to ${to.name} rolled back: ${from.name} is the writer (${cause})`);
}

/** The post_swap hook (a failure is a note: the swap stands), then the report. */
async function afterSwap(run: SwapRun): Promise<SwapReport> {
  const warning = await postSwapHook(run.inv, run.pair, run.from, run.to, run.opts.log);
  if (warning) run.notes.push(warning);
  return report(run, 'swapped');
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

/** What `node` has written to its binlog: the position its peer must apply. */
async function binlogPosition(run: SwapRun, node: NodeSpec): Promise<string> {
  const [row] = await run.io.sql(node, (await run.conn.mysql(node)).dialect.instanceVariables, 'read');
  return String(row?.gtid_binlog ?? '').replace(/\s+/g, '');
}

/** Waits until `on` applied `position` of `source`, up to --timeout. */
async function waitApplied(run: SwapRun, source: NodeSpec, on: NodeSpec, position: string, what: string): Promise<void> {
  if (position === '') return;
  const { dialect } = await run.conn.mysql(on);
  const [row] = await run.io.sql(on, dialect.waitForGtid(position, run.opts.timeoutSeconds), 'wait');
  if (!run.io.dryRun && Number(row?.reached) !== 1) {
    throw new ReplicationError(`${on.name} did not apply ${what} of ${source.name} (${position}) within ${run.opts.timeoutSeconds} s`, { host: on.name });
  }
}

/** Kills the sessions `list` returns on the old writer, then waits until they are gone. */
async function killAndWait(run: SwapRun, list: SqlStatement): Promise<void> {
  for (const row of await run.io.sql(run.from, list, 'read')) await run.io.sql(run.from, killConnection(Number(row.ID)), 'change').catch(() => []);
  await run.io.waitUntil('those sessions are gone', KILLED_GONE_TIMEOUT_MS, async () => (await run.io.sql(run.from, list, 'read')).length === 0, KILL_POLL_MS);
}

/** Accounts that can write through read_only on the old writer (except duet's own), not locked already. */
async function accountsToLock(run: SwapRun): Promise<Account[]> {
  const session = await run.conn.mysql(run.from);
  // The peer's fence account (READ_ONLY ADMIN, to set read_only) is duet's own too.
  const grantees = await readOnlyBypassers(session, [...duetAccounts(run.inv.ssh.user), { user: FENCE_USER, host: run.to.address }]);
  const alreadyLocked = new Set((await query(session, lockedAccounts(session.dialect.flavor))).map((r) => `'${String(r.user)}'@'${String(r.host)}'`));
  return grantees.filter((g) => !alreadyLocked.has(g)).map(parseGrantee);
}

function parseGrantee(grantee: string): Account {
  const m = /^'(.*)'@'(.*)'$/.exec(grantee);
  if (!m) throw new HostStateError(`cannot read the grantee ${grantee}`);
  return { user: m[1]!, host: m[2]! };
}

async function unlock(run: SwapRun): Promise<void> {
  if (run.locked.length === 0) return;
  await notBinlogged(run, run.locked.map((account) => lockAccount(account, false)));
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

async function resume(inv: Inventory, conn: NodeConnections, opts: SwapOptions, journal: JournalState): Promise<SwapReport> {
  const { pair } = opts;
  const from = pair.nodes.find((n) => n.name === journal.begin.from);
  const to = pair.nodes.find((n) => n.name === journal.begin.to);
  if (!from || !to || journal.begin.pair !== pair.name) {
    throw new UsageError(`the journal ${opts.journalPath} is about pair ${journal.begin.pair} (${journal.begin.from} -> ${journal.begin.to}), not this inventory's pair ${pair.name}`);
  }
  const unknown = journal.steps.filter((s) => !(SWAP_STEPS as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new UsageError(`the journal ${opts.journalPath} names steps of an older duet (${unknown.join(', ')}): this one cannot resume that swap`, {
      hint: 'resume with the duet that started the swap, or check the pair with status and end the journal by hand',
    });
  }
  const run = newRun(inv, conn, opts, from, to, false, new Journal(opts.journalPath), journal.locked);
  opts.log(`${pair.name}: resuming the swap from ${from.name} to ${to.name} (steps begun: ${journal.steps.join(', ') || 'none'}; done: ${journal.done.join(', ') || 'none'})`);
  const steps = runner(run, journal);
  const outcome = await afterFirstChange(`resuming the swap of pair ${pair.name} failed`, () => recover(run, steps, 'the controller stopped mid-swap'), RESUME_HINT);
  run.notes.push(outcome === 'swapped' ? `the swap went through: ${to.name} is the writer` : `rolled back: ${from.name} is the writer`);
  return report(run, outcome);
}

/** Swapping to the node that already is the writer: only make sure haresources records it. */
async function alreadyWriter(run: SwapRun, facts: Map<string, NodeFacts>): Promise<SwapReport> {
  if (run.pair.nodes.some((n) => recordedWriter(run.pair, facts.get(n.name)!.extras.haresources) !== run.to.name)) {
    await afterFirstChange(`recording ${run.to.name} as the writer in haresources failed`, () => recordOnHosts(run, run.to));
    run.notes.push(`recorded ${run.to.name} as the writer in haresources`);
  }
  return report(run, 'already the writer');
}

async function report(run: SwapRun, outcome: SwapResult): Promise<SwapReport> {
  const critical = run.steps.filter((s) => (CRITICAL_PATH as string[]).includes(s.step));
  return {
    pair: run.pair.name,
    from: run.from.name,
    to: run.to.name,
    outcome,
    ...(run.freezeMs === undefined ? {} : { freeze_ms: run.freezeMs, critical_path: critical }),
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

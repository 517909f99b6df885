// The failover drill: the Heartbeat write-up's "shut a node down, run the query, start it again"
// test, automated, timed and extended to crashes, a killed Heartbeat and cut links. A client on an
// application host writes through the floating IP the whole time while a watcher samples both nodes
// every 100 ms; each scenario reports the client-seen outage, how long both nodes (or none) were
// writable, and the writer afterwards. At the end every acknowledged write must be on both nodes
// exactly once, the drill table's checksums equal, and verify must pass.
// With load balancers the client goes through the tier's floating IP and the watcher also samples
// who holds it; `writeUp` runs the write-up's 17 steps (src/ops/write-up-test.ts) instead of
// scenarios: see runWriteUp.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packagePath } from '../../paths.ts';
import { ApplyError, UsageError } from '../../errors.ts';
import type { HostSpec, Inventory, NodeSpec, PairSpec } from '../../inventory/model.ts';
import { peerOf } from '../../inventory/model.ts';
import { Secret } from '../../inventory/secret.ts';
import { DUET_SCHEMA } from '../../inventory/validate.ts';
import { bootHost, crashHost, healHost, killDaemon, partitionHost } from '../../fixtures/faults.ts';
import { fixtureExecArgv } from '../../fixtures/fixtures.ts';
import { fixtureStateDir, readState, type FixtureState } from '../../fixtures/state.ts';
import { checksumTables, query, waitForGtid, withBinlogOff } from '../../mysql/dao.ts';
import { dropUser, grantDrill, serverProcessName, useDuetSchema, writerRoleScriptSql } from '../../mysql/dialect.ts';
import { DRILL_TABLE, ensureDuetSchema } from '../../mysql/duet-schema.ts';
import { WRITER_SINCE_PATH } from '../../render/desired.ts';
import { shellQuote } from '../../transport/shell.ts';
import { mysqlUnit, serviceCommand, withoutInheritedPipes } from '../services.ts';
import { readPairStatus, withConnections, type PairStatus } from '../status.ts';
import type { NodeConnections } from '../pair-state.ts';
import { DEFAULT_VERIFY_OPTIONS, verify } from '../verify.ts';
import { compareRows, longestGapMs, servingView, writerFigures, type Sample, type ServingView } from './timeline.ts';
import { afterHealGoalMs, isOperatorScenario, scenarioNamed, WRITE_UP, type FaultAction, type Scenario } from './scenarios.ts';
import { outageLimitSeconds, writeUpSteps } from '../write-up-test.ts';

export interface DrillOptions {
  pair: PairSpec;
  scenarios: string[];
  /** The write-up's 17-step test (src/ops/write-up-test.ts) instead of scenarios; also scenario name `write-up`. Needs load balancers and the fixtures. */
  writeUp?: boolean;
  /** Where the nodes see the client come from (the drill's account is allowed from there only). */
  clientAddress?: string;
  /**
   * The client takes a new key after an error instead of retrying the same one. With retries (the
   * default, like an application with idempotency keys), a write the old writer committed in the
   * instant it was cut off collides with its retry on the new writer once the old one is back:
   * replication stops with a duplicate key (README: what a two-node pair cannot promise).
   */
  freshKeys?: boolean;
  log: (line: string) => void;
}

export interface DrillStep {
  name: string;
  fault: string;
  node: string;
  outageMs: number;
  goalMs: number;
  doubleWriterMs: number;
  noWriterMs: number;
  /** Partitions: how long no node was writable after the heal. */
  noWriterAfterHealMs?: number;
  writer: string | undefined;
  ipHolders: string[];
  /** With load balancers: who holds the tier's floating IP afterwards. */
  lbIpHolders?: string[];
  /**
   * The write-up's "run a query" steps: ms from the fault before it (or from the first try when no
   * fault came since the last query) until a fresh connection through the entry IP ran a SELECT
   * and a write; undefined when none did.
   */
  queryMs?: number;
  /** The fault step a query is timed from; undefined when it is timed from its own first try. */
  queryAfter?: string;
  /** verify after the step; undefined where it is not run (the write-up keeps hosts down across steps). */
  verifyPassed?: boolean;
  passed: boolean;
  problems: string[];
}

export interface DrillReport {
  pair: string;
  onFixtures: boolean;
  steps: DrillStep[];
  acked: number;
  lost: number;
  duplicated: number;
  checksumsEqual: boolean;
  verifyPassed: boolean;
  passed: boolean;
  problems: string[];
}

const SAMPLE_MS = 100;
const HEALTHY_TIMEOUT_MS = 150_000;
const CLIENT = packagePath('src/ops/drill/client.ts');

/** Where the drill runs: the fixture hosts (every fault), or real hosts (operator actions only). */
interface Site {
  fixtures: FixtureState | undefined;
  /** The fault on a host, by name: a database node or (fixtures only) a load balancer. */
  inject(action: FaultAction, host: string): Promise<void>;
}

/** The hosts of a pair and of its load balancers, if any. */
function hostsOf(pair: PairSpec): HostSpec[] {
  return [...pair.nodes, ...(pair.loadBalancers?.nodes ?? [])];
}

/** The fixtures run this pair when the state dir holds hosts with its nodes' (and load balancers') names and addresses. */
export function fixturesOf(pair: PairSpec): FixtureState | undefined {
  const state = readState(fixtureStateDir());
  if (!state) return undefined;
  const ours = hostsOf(pair).every((n) => state.hosts.some((h) => h.name === n.name && h.address === n.address));
  return ours ? state : undefined;
}

/**
 * Where the drill's client connects: the load balancers' floating IP and port when the pair has a
 * tier (applications connect there only), else the pair's floating IP. HAProxy connects to the
 * nodes from the load balancers' own addresses, so the drill's account is allowed from those.
 */
export function drillEntry(pair: PairSpec, clientAddress: string): { address: string; port: number; via: 'tier' | 'pair'; accountHosts: string[] } {
  const tier = pair.loadBalancers;
  if (tier) return { address: tier.vip.address, port: tier.port, via: 'tier', accountHosts: tier.nodes.map((n) => n.address) };
  return { address: pair.vip.address, port: 3306, via: 'pair', accountHosts: [clientAddress] };
}

function siteFor(inv: Inventory, pair: PairSpec): Site {
  const fixtures = fixturesOf(pair);
  const operator = async (action: FaultAction, host: string) => {
    const node = pair.nodes.find((n) => n.name === host);
    if (!node) throw new UsageError(`${host} is not a database node of pair ${pair.name}`, { hint: 'on real hosts the drill acts on the database nodes only' });
    const [unit, verb] =
      action === 'stop-heartbeat' ? ['heartbeat', 'stop'] : action === 'start-heartbeat' ? ['heartbeat', 'start'] : action === 'stop-mysql' ? [mysqlUnit(inv.mysql.flavor), 'stop'] : [mysqlUnit(inv.mysql.flavor), 'start'];
    // `service` works on systemd hosts and on init scripts alike.
    await withConnections(inv, async (conn) => (await conn.ssh(node)).run(withoutInheritedPipes(serviceCommand('sysvinit', unit, verb as 'stop' | 'start')), { timeoutMs: 120_000 }));
  };
  return {
    fixtures,
    async inject(action, host) {
      switch (action) {
        case 'crash': return void (await crashHost(host));
        case 'boot': return void (await bootHost(host));
        case 'partition': return void (await partitionHost(host));
        case 'heal': return void (await healHost(host));
        case 'kill-mysqld': return void (await killDaemon(host, serverProcessName(inv.mysql.flavor)));
        case 'kill-heartbeat': return void (await killDaemon(host, 'heartbeat'));
        default: return operator(action, host);
      }
    },
  };
}

/** Checks the scenario names against where the drill runs, before anything is touched. */
export function chooseScenarios(names: string[], onFixtures: boolean): Scenario[] {
  const chosen = names.map((name) => {
    const s = scenarioNamed(name);
    if (!s) throw new UsageError(`no drill scenario ${name}`, { hint: 'drill --help lists them' });
    return s;
  });
  const refused = chosen.filter((s) => !onFixtures && !isOperatorScenario(s));
  if (refused.length > 0) {
    throw new UsageError(`${refused.map((s) => s.name).join(', ')}: only on the fixture hosts`, {
      hint: 'power cuts, cut links and killed daemons cannot be caused safely on real hosts; there, the drill runs stop-heartbeat and stop-mysql only',
    });
  }
  return chosen;
}

export async function drill(inv: Inventory, opts: DrillOptions): Promise<DrillReport> {
  const { pair, log } = opts;
  const site = siteFor(inv, pair);
  const writeUp = opts.writeUp === true || opts.scenarios.includes(WRITE_UP);
  const scenarios = writeUp ? checkWriteUp(pair, opts.scenarios, site.fixtures !== undefined) : chooseScenarios(opts.scenarios, site.fixtures !== undefined);
  const client = clientPlace(site, opts.clientAddress);
  const entry = drillEntry(pair, client.address);
  const accounts = entry.accountHosts.map((host) => ({ user: 'duet_drill', host }));
  const password = new Secret(randomBytes(16).toString('hex'), 'the drill (random, this run only)');
  const run = randomBytes(8).toString('hex');
  const report: DrillReport = { pair: pair.name, onFixtures: site.fixtures !== undefined, steps: [], acked: 0, lost: 0, duplicated: 0, checksumsEqual: false, verifyPassed: false, passed: false, problems: [] };

  log(`${pair.name}: waiting for a healthy pair${pair.loadBalancers ? ' and load balancers' : ''}`);
  await waitHealthy(inv, pair);
  await prepare(inv, pair, accounts, password);
  // The drill's account goes whatever happens (a pair that did not come back included).
  try {
    const watcher = startWatcher(inv, pair, site);
    const stopDir = mkdtempSync(join(tmpdir(), 'duet-drill-'));
    const writer = startClient(client, entry, accounts[0]!.user, password, run, join(stopDir, 'stop'), opts.freshKeys ?? false);
    const queries: ProbeRun = { run: randomBytes(8).toString('hex'), acked: [] };
    try {
      await writer.firstAck;
      log(`${pair.name}: the client writes through ${entry.address}:${entry.port}${entry.via === 'tier' ? " (the load balancers' floating IP)" : ''} (run ${run})`);
      if (writeUp) {
        await runWriteUp(inv, pair, site, { samples: watcher.samples, acks: writer.acks, probe: (seq, seconds) => runProbe(client, entry, accounts[0]!.user, password, queries.run, seq, seconds), queries, log }, report);
      } else {
        for (const scenario of scenarios) {
          const step = await runStep(inv, pair, site, scenario, watcher.samples, writer.acks, log);
          report.steps.push(step);
          log(`${pair.name}: ${formatStep(step)}`);
        }
      }
    } finally {
      writeFileSync(join(stopDir, 'stop'), '');
      await writer.done;
      watcher.stop();
      rmSync(stopDir, { recursive: true, force: true });
    }
    report.acked = writer.acks.length;
    await finalChecks(inv, pair, [{ run, acked: writer.acks.map((a) => a.seq) }, ...(queries.acked.length > 0 ? [queries] : [])], report);
  } finally {
    await cleanUp(inv, pair, accounts).catch((err: unknown) => log(`${pair.name}: could not drop the drill's account: ${err instanceof Error ? err.message : String(err)}`));
  }
  report.passed = report.problems.length === 0 && report.steps.every((s) => s.passed);
  return report;
}

/** The write-up's test needs the tier (its steps name a load balancer) and power cuts (the fixtures); it runs alone. */
export function checkWriteUp(pair: PairSpec, names: string[], onFixtures: boolean): Scenario[] {
  if (!pair.loadBalancers) throw new UsageError(`pair ${pair.name} has no load_balancers: the write-up's test shuts down a load balancer and queries through the tier`, { hint: 'e.g. inventory/fixtures-lb.yml on fixtures up --hosts db1,db2,app1,lb1:21,lb2:22' });
  if (!onFixtures) throw new UsageError("the write-up's test runs on the fixture hosts only", { hint: 'its "shut down" is a power cut, which cannot be caused safely on real hosts' });
  const others = names.filter((n) => n !== WRITE_UP);
  if (others.length > 0) throw new UsageError(`the write-up's test runs alone, not with ${others.join(', ')}`, { hint: 'run the scenarios in a second drill' });
  return [];
}

async function runStep(inv: Inventory, pair: PairSpec, site: Site, scenario: Scenario, samples: Sample[], acks: Ack[], log: (line: string) => void): Promise<DrillStep> {
  const before = await waitHealthy(inv, pair);
  const writer = pair.nodes.find((n) => n.name === before.writer)!;
  if (scenario.afterFlapWindow) await waitFlapWindow(inv, pair, writer, log);
  const node = scenario.target === 'writer' ? writer : peerOf(pair, writer);
  log(`${pair.name}: ${scenario.name}: ${scenario.what} (${node.name})`);
  const started = Date.now();
  await site.inject(scenario.fault, node.name);
  if (scenario.holdMs !== undefined) await sleep(scenario.holdMs);
  else await waitOneWriter(samples, pair, started);
  let healed: number | undefined;
  if (scenario.recover) {
    await site.inject(scenario.recover, node.name);
    healed = Date.now();
  }
  const after = await waitHealthy(inv, pair);
  const ended = Date.now();
  const nodes = pair.nodes.map((n) => n.name);
  const figures = writerFigures(samples, nodes, started, ended);
  const goal = scenario.goal(pair);
  const outageMs = longestGapMs(acks.map((a) => a.t), started, ended);
  // A replica whose source was cut off may still sit on the dead connection until slave_net_timeout
  // (10 s): both nodes first apply what the other wrote, then verify (its canary waits 5 s).
  await withConnections(inv, (conn) => catchUp(conn, pair));
  const verified = await verify(inv, { ...DEFAULT_VERIFY_OPTIONS, pairs: [pair.name] });
  const step: DrillStep = {
    name: scenario.name,
    fault: scenario.what,
    node: node.name,
    outageMs,
    goalMs: goal.outageMs,
    ...figures,
    writer: after.writer,
    ipHolders: after.nodes.filter((n) => n.holdsVip).map((n) => n.node),
    verifyPassed: verified.summary.fail === 0,
    passed: false,
    problems: [],
  };
  if (scenario.fault === 'partition' && healed !== undefined) step.noWriterAfterHealMs = writerFigures(samples, nodes, healed, ended).noWriterMs;
  if (outageMs > goal.outageMs) step.problems.push(`outage ${outageMs} ms over the goal ${goal.outageMs} ms (${goal.why})`);
  if (step.doubleWriterMs > 0) step.problems.push(`two writers for ${step.doubleWriterMs} ms`);
  if (step.noWriterMs > goal.outageMs) step.problems.push(`no writer for ${step.noWriterMs} ms`);
  if ((step.noWriterAfterHealMs ?? 0) > afterHealGoalMs(pair)) step.problems.push(`no writer for ${step.noWriterAfterHealMs} ms after the heal (goal ${afterHealGoalMs(pair)} ms)`);
  if (!step.verifyPassed) step.problems.push(`verify failed: ${verified.findings.filter((f) => f.status === 'fail').map((f) => `${f.check} ${f.host ?? f.pair}: ${f.message}`).join('; ')}`);
  step.passed = step.problems.length === 0;
  return step;
}

export function formatStep(s: DrillStep): string {
  const heal = s.noWriterAfterHealMs === undefined ? '' : `, no writer after the heal ${s.noWriterAfterHealMs} ms`;
  const tier = s.lbIpHolders === undefined ? '' : `, tier IP on ${s.lbIpHolders.join(' and ') || 'no load balancer'}`;
  const head =
    s.fault === 'query'
      ? `${s.name} (${s.node}): ${s.queryMs === undefined ? 'NO answer' : `answered ${s.queryMs} ms ${s.queryAfter ? `after "${s.queryAfter}"` : 'after its first try'}`} (goal ${s.goalMs})`
      : `${s.name} (${s.node}): outage ${s.outageMs} ms (goal ${s.goalMs})`;
  return (
    `${s.passed ? 'OK  ' : 'FAIL'} ${head}, two writers ${s.doubleWriterMs} ms, no writer ${s.noWriterMs} ms${heal}; ` +
    `writer ${s.writer ?? 'none'}, floating IP on ${s.ipHolders.join(' and ') || 'no node'}${tier}${s.problems.length > 0 ? `\n       ${s.problems.join('\n       ')}` : ''}`
  );
}

export function formatDrill(r: DrillReport): string {
  const head = `drill of pair ${r.pair}${r.onFixtures ? ' (fixture hosts)' : ''}:`;
  const tail = [
    `writes acknowledged ${r.acked}, lost ${r.lost}, duplicated ${r.duplicated}; checksums ${r.checksumsEqual ? 'equal' : 'DIFFER'}; verify ${r.verifyPassed ? 'passed' : 'FAILED'}`,
    ...r.problems.map((p) => `FAIL ${p}`),
    `drill ${r.passed ? 'PASSED' : 'FAILED'}`,
  ];
  return [head, ...r.steps.map(formatStep), ...tail].join('\n');
}

/**
 * Status says one writer holding the floating IP, nothing to warn about (replication and Heartbeat
 * running on both); with load balancers, the tier without warnings too unless `tier` is false (a
 * load balancer is powered off on purpose).
 */
async function waitHealthy(inv: Inventory, pair: PairSpec, tier = true): Promise<PairStatus> {
  const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
  let last: PairStatus | string = 'not read yet';
  for (;;) {
    try {
      // New connections each time: a node that was cut off or crashed leaves dead ones behind.
      // status warns about a writer whose commits wait for no replica (a half-open replica connection
      // after a cut link): a fault then would be a fault of a degraded pair, so the drill waits.
      last = await withConnections(inv, (conn) => readPairStatus(conn, pair));
      const tierWarnings = tier ? (last.loadBalancers?.warnings ?? []) : [];
      if (last.writer !== undefined && last.warnings.length === 0 && tierWarnings.length === 0) return last;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const why = typeof last === 'string' ? last : [...last.warnings, ...(tier ? (last.loadBalancers?.warnings ?? []) : [])].join('; ') || 'no writer';
      throw new ApplyError(`pair ${pair.name} did not become healthy within ${HEALTHY_TIMEOUT_MS / 1000} s: ${why}`, {
        hint: 'status shows the pair; /var/log/ha-log on each node says what Heartbeat and duet did',
      });
    }
    await sleep(1000);
  }
}

/** Until the samples show one node writable and holding the floating IP, and no other writable. */
async function waitOneWriter(samples: Sample[], pair: PairSpec, since: number): Promise<void> {
  const deadline = Date.now() + (pair.heartbeat.deadtime + 60) * 1000;
  while (Date.now() < deadline) {
    const latest = pair.nodes.map((n) => samples.filter((s) => s.node === n.name && s.t > since).at(-1));
    if (latest.every((s) => s !== undefined) && latest.filter((s) => s!.writable).length === 1 && latest.some((s) => s!.writable && s!.vip)) return;
    await sleep(SAMPLE_MS);
  }
}

/** The monitor hands the role on only when the writer got it more than flap_window ago: wait for that. */
async function waitFlapWindow(inv: Inventory, pair: PairSpec, writer: NodeSpec, log: (line: string) => void): Promise<void> {
  const since = Number(await withConnections(inv, async (conn) => (await (await conn.ssh(writer)).exec(`cat ${shellQuote(WRITER_SINCE_PATH)}`)).stdout.trim()));
  const waitMs = Number.isFinite(since) ? (since + pair.failover.flapWindow + 1) * 1000 - Date.now() : 0;
  if (waitMs <= 0) return;
  log(`${pair.name}: waiting ${Math.ceil(waitMs / 1000)} s for the flap window (${pair.failover.flapWindow} s) since ${writer.name} got the role`);
  await sleep(waitMs);
}

/** The drill table exists on both nodes, empty of earlier runs, and the drill's account on each. */
async function prepare(inv: Inventory, pair: PairSpec, accounts: Array<{ user: string; host: string }>, password: Secret): Promise<void> {
  await withConnections(inv, async (conn) => {
    const status = await readPairStatus(conn, pair);
    for (const node of pair.nodes) {
      const session = await conn.mysql(node);
      await ensureDuetSchema(session);
      await withBinlogOff(session, async () => {
        for (const account of accounts) {
          await query(session, session.dialect.createUser(account, password));
          await query(session, session.dialect.setPassword(account, password));
          await query(session, grantDrill(account, DRILL_TABLE));
        }
      });
    }
    // Earlier runs' rows go on the writer, binlogged, so both nodes drop them.
    const writer = await conn.mysql(pair.nodes.find((n) => n.name === status.writer)!);
    await query(writer, useDuetSchema);
    await query(writer, `DELETE FROM ${DUET_SCHEMA}.${DRILL_TABLE}`);
  });
}

async function cleanUp(inv: Inventory, pair: PairSpec, accounts: Array<{ user: string; host: string }>): Promise<void> {
  await withConnections(inv, async (conn) => {
    for (const node of pair.nodes) {
      const session = await conn.mysql(node);
      await withBinlogOff(session, async () => {
        for (const account of accounts) await query(session, dropUser(account));
      });
    }
  });
}

/**
 * Each node has applied everything its peer has in its binlog (both running and replicating). After
 * a cut link a replica reconnects on its own, within slave_net_timeout plus MASTER_CONNECT_RETRY
 * (10 + 10 s) of the heal, but a connection attempt begun during the cut can take its own time to
 * give up: CATCH_UP_SECONDS leaves room for that.
 */
async function catchUp(conn: NodeConnections, pair: PairSpec): Promise<void> {
  for (const node of pair.nodes) {
    const peer = await conn.mysql(peerOf(pair, node));
    const [row] = await query(peer, peer.dialect.instanceVariables);
    await waitForGtid(await conn.mysql(node), String(row?.gtid_binlog ?? '').replace(/\s+/g, ''), CATCH_UP_SECONDS);
  }
}
const CATCH_UP_SECONDS = 120;

/**
 * Both nodes applied each other's position, then every acknowledged key of each run (the client's;
 * the write-up's queries') is on each exactly once and the checksums agree.
 */
async function finalChecks(inv: Inventory, pair: PairSpec, runs: Array<{ run: string; acked: number[] }>, report: DrillReport): Promise<void> {
  await withConnections(inv, async (conn) => {
    await catchUp(conn, pair);
    const sums = new Set<string>();
    for (const node of pair.nodes) {
      const session = await conn.mysql(node);
      let [lostOn, duplicatedOn] = [0, 0];
      for (const { run, acked } of runs) {
        const rows = (await query(session, { sql: `SELECT seq FROM ${DUET_SCHEMA}.${DRILL_TABLE} WHERE run = ?`, params: [run] })).map((r) => Number(r.seq));
        const { lost, duplicated } = compareRows(acked, rows);
        lostOn += lost.length;
        duplicatedOn += duplicated.length;
        if (lost.length > 0) report.problems.push(`${node.name} lacks ${lost.length} acknowledged write(s) of run ${run}: ${lost.slice(0, 10).join(', ')}`);
        if (duplicated.length > 0) report.problems.push(`${node.name} holds ${duplicated.length} write(s) of run ${run} twice`);
      }
      report.lost = Math.max(report.lost, lostOn);
      report.duplicated = Math.max(report.duplicated, duplicatedOn);
      sums.add(String([...(await checksumTables(session, [{ schema: DUET_SCHEMA, table: DRILL_TABLE }])).values()][0]));
    }
    report.checksumsEqual = sums.size === 1;
    if (!report.checksumsEqual) report.problems.push(`the checksums of ${DUET_SCHEMA}.${DRILL_TABLE} differ`);
  });
  const verified = await verify(inv, { ...DEFAULT_VERIFY_OPTIONS, pairs: [pair.name] });
  report.verifyPassed = verified.summary.fail === 0;
  if (!report.verifyPassed) report.problems.push(`verify failed at the end: ${verified.findings.filter((f) => f.status === 'fail').map((f) => `${f.check} ${f.host ?? f.pair}: ${f.message}`).join('; ')}`);
}

// ---- The client and the watcher: processes on the hosts' networks, reporting as they go. ----

interface Ack {
  seq: number;
  t: number;
}

interface ClientPlace {
  address: string;
  /** On the fixtures: the application host's network namespace. */
  netns: string | undefined;
}

function clientPlace(site: Site, clientAddress: string | undefined): ClientPlace {
  if (site.fixtures) {
    const app = site.fixtures.hosts.find((h) => !h.mariadbServer && h.name.startsWith('app'));
    if (!app) throw new UsageError('the fixtures have no application host', { hint: 'fixtures up --hosts db1,db2,app1' });
    return { address: app.address, netns: app.netns };
  }
  if (!clientAddress) {
    throw new UsageError('on real hosts the drill needs --client-address', { hint: 'the address the database nodes see this machine connect from (it must be in firewall.mysql_from)' });
  }
  return { address: clientAddress, netns: undefined };
}

type Entry = ReturnType<typeof drillEntry>;

function clientArgv(place: ClientPlace, entry: Entry, args: string[]): string[] {
  const node = [process.execPath, '--import', import.meta.resolve('tsx'), CLIENT, '--host', entry.address, '--port', String(entry.port), ...args];
  return place.netns ? ['ip', 'netns', 'exec', place.netns, ...node] : node;
}

function startClient(place: ClientPlace, entry: Entry, user: string, password: Secret, run: string, stopFile: string, freshKeys: boolean) {
  const argv = clientArgv(place, entry, ['--user', user, '--table', DRILL_TABLE, '--run', run, '--stop-file', stopFile, '--seconds', '3600', ...(freshKeys ? ['--fresh-keys'] : [])]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.end(password.reveal());
  const acks: Ack[] = [];
  let firstAck: () => void = () => {};
  const first = new Promise<void>((resolve) => (firstAck = resolve));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as { ack?: number; t: number };
    if (event.ack !== undefined) {
      acks.push({ seq: event.ack, t: event.t });
      firstAck();
    }
  });
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { acks, firstAck: Promise.race([first, done.then(() => Promise.reject(new ApplyError('the drill client exited before its first write', { hint: 'its error is printed above' })))]), done };
}

/**
 * Samples both nodes every 100 ms (writable, holding the pair's floating IP), and the load
 * balancers if any (holding the tier's floating IP; never writable): on the fixtures from inside
 * each host (it sees a cut-off node too), else over SSH.
 */
function startWatcher(inv: Inventory, pair: PairSpec, site: Site): { samples: Sample[]; stop(): void } {
  const samples: Sample[] = [];
  const client = writerRoleScriptSql(inv.mysql.flavor).localClient;
  const holds = (vip: string) => `if ip -4 -o addr show scope global | grep -q ' ${vip}/'; then v=1; else v=0; fi`;
  const nodeOnce = `ro=$(timeout 1 ${client} -N -e 'SELECT @@read_only' 2>/dev/null || echo x); ${holds(pair.vip.address)}; echo "$(date +%s%3N) $ro $v"`;
  const lbOnce = pair.loadBalancers ? `${holds(pair.loadBalancers.vip.address)}; echo "$(date +%s%3N) lb $v"` : '';
  const watched: Array<{ host: HostSpec; once: string }> = [
    ...pair.nodes.map((host) => ({ host, once: nodeOnce })),
    ...(pair.loadBalancers?.nodes ?? []).map((host) => ({ host, once: lbOnce })),
  ];
  let stopped = false;
  const record = (node: HostSpec, line: string) => {
    const [t, ro, vip] = line.trim().split(' ');
    if (t && ro && vip) samples.push({ node: node.name, t: Number(t), writable: ro === '0', vip: vip === '1' });
  };
  const children: ChildProcess[] = [];
  if (site.fixtures) {
    // One long-running loop per host; a crash kills it, so it is started again (the host's PID 1 survives).
    const loop = ({ host: node, once }: { host: HostSpec; once: string }) => {
      if (stopped) return;
      const argv = fixtureExecArgv(node.name, ['sh', '-c', `while :; do ${once}; sleep 0.1; done`]);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => record(node, line));
      child.once('exit', () => {
        samples.push({ node: node.name, t: Date.now(), writable: false, vip: false });
        setTimeout(() => loop({ host: node, once }), SAMPLE_MS);
      });
    };
    watched.forEach(loop);
  } else {
    void withConnections(inv, async (conn) => {
      while (!stopped) {
        const started = Date.now();
        await Promise.all(watched.map(async ({ host: node, once }) => {
          const result = await (await conn.ssh(node)).exec(once, { timeoutMs: 2000 }).catch(() => undefined);
          if (result?.code === 0) record(node, result.stdout);
          else samples.push({ node: node.name, t: Date.now(), writable: false, vip: false });
        }));
        await sleep(Math.max(0, SAMPLE_MS - (Date.now() - started)));
      }
    });
  }
  return {
    samples,
    stop() {
      stopped = true;
      for (const child of children) {
        try {
          if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone (a crash of its host ended it)
        }
      }
    },
  };
}

// ---- The write-up's 17 steps (src/ops/write-up-test.ts) through the load balancers. ----

interface ProbeRun {
  /** The queries' own run key (16 hex digits), so their rows never mix with the client's. */
  run: string;
  /** The keys the queries wrote, acknowledged. */
  acked: number[];
}

interface ProbeResult {
  ok: boolean;
  /** ms since the epoch: the first try, and the answer (or the give-up). */
  first: number;
  t: number;
  tries: number;
  error?: string;
}

interface WriteUpContext {
  samples: Sample[];
  acks: Ack[];
  /** A "run a query": fresh connections through the entry until one runs a SELECT and writes key seq, for at most `seconds`. */
  probe(seq: number, seconds: number): Promise<ProbeResult>;
  queries: ProbeRun;
  log: (line: string) => void;
}

function runProbe(place: ClientPlace, entry: Entry, user: string, password: Secret, run: string, seq: number, seconds: number): Promise<ProbeResult> {
  const argv = clientArgv(place, entry, ['--user', user, '--table', DRILL_TABLE, '--run', run, '--probe', String(seq), '--seconds', String(seconds)]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.end(password.reveal());
  let result: ProbeResult | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as { query?: string; first: number; t: number; tries: number; error?: string };
    if (event.query !== undefined) result = { ok: event.query === 'ok', first: event.first, t: event.t, tries: event.tries, error: event.error };
  });
  return new Promise((resolve) => child.once('close', () => resolve(result ?? { ok: false, first: Date.now(), t: Date.now(), tries: 0, error: 'the query process printed nothing' })));
}

function blankStep(name: string, fault: string, node: string, goalMs: number): DrillStep {
  return { name, fault, node, outageMs: 0, goalMs, doubleWriterMs: 0, noWriterMs: 0, writer: undefined, ipHolders: [], lbIpHolders: [], passed: false, problems: [] };
}

/**
 * The write-up's test: each fault (shut down = power cut, start = boot) is a step whose window
 * lasts until the next fault, so its figures cover the failover and the recovery; each "run a
 * query" is a step of its own (a fresh connection through the tier's IP, timed from the fault
 * before it). A host stays down across steps: in between, the pair is "degraded but serving" (one
 * writer holding the pair's IP among the running nodes, one running load balancer holding the
 * tier's, the client's writes acknowledged again), and healthy (status without warnings, both
 * nodes caught up) once every database node runs again, before the next fault.
 */
async function runWriteUp(inv: Inventory, pair: PairSpec, site: Site, ctx: WriteUpContext, report: DrillReport): Promise<void> {
  const tier = pair.loadBalancers!;
  const nodes = pair.nodes.map((n) => n.name);
  const lbs = tier.nodes.map((n) => n.name);
  const down = new Set<string>();
  let open: { step: DrillStep; started: number } | undefined;
  let lastFault: { at: number; host: string; name: string } | undefined;
  let querySeq = 0;

  const figures = (step: DrillStep, from: number, to: number, view: ServingView | undefined) => {
    Object.assign(step, writerFigures(ctx.samples, nodes, from, to));
    step.writer = view?.writers.length === 1 ? view.writers[0] : undefined;
    step.ipHolders = view?.ipHolders ?? [];
    step.lbIpHolders = view?.lbIpHolders ?? [];
    if (step.doubleWriterMs > 0) step.problems.push(`two writers for ${step.doubleWriterMs} ms`);
    if (step.noWriterMs > step.goalMs) step.problems.push(`no writer for ${step.noWriterMs} ms`);
    step.passed = step.problems.length === 0;
    ctx.log(`${pair.name}: ${formatStep(step)}`);
  };
  // Before the next fault and at the end: serving again; the open fault step's window ends here.
  const close = async () => {
    const view = await settle(inv, pair, down, ctx);
    if (!open) return;
    const { step, started } = open;
    const ended = Date.now();
    step.outageMs = longestGapMs(ctx.acks.map((a) => a.t), started, ended);
    if (step.outageMs > step.goalMs) step.problems.push(`outage ${step.outageMs} ms over the goal ${step.goalMs} ms`);
    figures(step, started, ended, view);
    open = undefined;
  };

  for (const [i, spec] of writeUpSteps(pair).entries()) {
    const name = `${i + 1}. ${spec.name}`;
    if (spec.fault) {
      await close();
      const { verb, host } = spec.fault;
      const step = blankStep(name, verb === 'crash' ? 'power cut (fixtures crash)' : 'power on (fixtures boot)', host, outageLimitSeconds(pair, host) * 1000);
      report.steps.push(step);
      ctx.log(`${pair.name}: ${name}`);
      const started = Date.now();
      await site.inject(verb, host);
      if (verb === 'crash') down.add(host);
      else down.delete(host);
      lastFault = { at: started, host, name };
      open = { step, started };
    } else {
      const limit = outageLimitSeconds(pair, lastFault?.host ?? nodes[0]!);
      const step = blankStep(name, 'query', `${tier.vip.address}:${tier.port}`, limit * 1000);
      if (lastFault) step.queryAfter = lastFault.name;
      report.steps.push(step);
      const from = Date.now();
      const seq = ++querySeq;
      // Given longer than the goal, so a slow answer is measured rather than cut off.
      const result = await ctx.probe(seq, limit + 30);
      const to = Date.now();
      if (result.ok) {
        ctx.queries.acked.push(seq);
        step.queryMs = result.t - (lastFault?.at ?? result.first);
        step.outageMs = step.queryMs;
        if (step.queryMs > step.goalMs) step.problems.push(`the query answered ${step.queryMs} ms after the fault, over the goal ${step.goalMs} ms`);
      } else {
        step.outageMs = to - (lastFault?.at ?? from);
        step.problems.push(`no answer through ${step.node} in ${result.tries} tries (last error ${result.error ?? 'none'})`);
      }
      figures(step, from, to, servingView(ctx.samples, nodes, lbs, down, 0));
      lastFault = undefined;
    }
  }
  await close();
}

/** Until the samples show the pair and tier serving among the running hosts and the client writing again (since now). */
async function waitServing(pair: PairSpec, down: ReadonlySet<string>, ctx: WriteUpContext): Promise<ServingView> {
  const since = Date.now();
  const deadline = since + HEALTHY_TIMEOUT_MS;
  const lbs = pair.loadBalancers?.nodes.map((n) => n.name) ?? [];
  for (;;) {
    const view = servingView(ctx.samples, pair.nodes.map((n) => n.name), lbs, down, since);
    if (view?.serving && (ctx.acks.at(-1)?.t ?? 0) > since) return view;
    if (Date.now() > deadline) {
      const seen = view ? `writable ${view.writers.join(', ') || 'none'}, pair IP on ${view.ipHolders.join(', ') || 'none'}, tier IP on ${view.lbIpHolders.join(', ') || 'none'}` : 'no samples';
      throw new ApplyError(`pair ${pair.name} did not serve again within ${HEALTHY_TIMEOUT_MS / 1000} s with ${[...down].join(', ') || 'nothing'} down (${seen})`, {
        hint: 'status shows the pair and its load balancers; /var/log/ha-log on each host says what Heartbeat and duet did',
      });
    }
    await sleep(SAMPLE_MS);
  }
}

/** Serving again; with every database node running, also healthy (status) and caught up both ways, so the next power cut loses nothing not yet received. */
async function settle(inv: Inventory, pair: PairSpec, down: ReadonlySet<string>, ctx: WriteUpContext): Promise<ServingView> {
  const view = await waitServing(pair, down, ctx);
  if (pair.nodes.some((n) => down.has(n.name))) return view;
  await waitHealthy(inv, pair, !(pair.loadBalancers?.nodes ?? []).some((n) => down.has(n.name)));
  await withConnections(inv, (conn) => catchUp(conn, pair));
  return waitServing(pair, down, ctx);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

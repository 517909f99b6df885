// The failover drill: the Heartbeat write-up's "shut a node down, run the query, start it again"
// test, automated, timed and extended to crashes, a killed Heartbeat and cut links. A client on an
// application host writes through the floating IP the whole time while a watcher samples both nodes
// every 100 ms; each scenario reports the client-seen outage, how long both nodes (or none) were
// writable, and the writer afterwards. At the end every acknowledged write must be on both nodes
// exactly once, the drill table's checksums equal, and verify must pass.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packagePath } from '../../paths.ts';
import { ApplyError, UsageError } from '../../errors.ts';
import type { Inventory, NodeSpec, PairSpec } from '../../inventory/model.ts';
import { peerOf } from '../../inventory/model.ts';
import { Secret } from '../../inventory/secret.ts';
import { DUET_SCHEMA } from '../../inventory/validate.ts';
import { bootHost, crashHost, healHost, killDaemon, partitionHost } from '../../fixtures/faults.ts';
import { fixtureExecArgv } from '../../fixtures/fixtures.ts';
import { fixtureStateDir, readState, type FixtureState } from '../../fixtures/state.ts';
import { checksumTables, query, waitForGtid, withBinlogOff } from '../../mysql/dao.ts';
import { dropUser, grantDrill, useDuetSchema, writerRoleScriptSql } from '../../mysql/dialect.ts';
import { DRILL_TABLE, ensureDuetSchema } from '../../mysql/duet-schema.ts';
import { WRITER_SINCE_PATH } from '../../render/desired.ts';
import { shellQuote } from '../../transport/shell.ts';
import { mysqlUnit, serviceCommand, withoutInheritedPipes } from '../services.ts';
import { readPairStatus, withConnections, type PairStatus } from '../status.ts';
import { DEFAULT_VERIFY_OPTIONS, verify } from '../verify.ts';
import { compareRows, longestGapMs, writerFigures, type Sample } from './timeline.ts';
import { afterHealGoalMs, isOperatorScenario, scenarioNamed, type FaultAction, type Scenario } from './scenarios.ts';

export interface DrillOptions {
  pair: PairSpec;
  scenarios: string[];
  /** Where the nodes see the client come from (the drill's account is allowed from there only). */
  clientAddress?: string;
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
  verifyPassed: boolean;
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
  inject(action: FaultAction, node: NodeSpec): Promise<void>;
}

/** The fixtures run this pair when the state dir holds hosts with its nodes' names and addresses. */
export function fixturesOf(pair: PairSpec): FixtureState | undefined {
  const state = readState(fixtureStateDir());
  if (!state) return undefined;
  const ours = pair.nodes.every((n) => state.hosts.some((h) => h.name === n.name && h.address === n.address));
  return ours ? state : undefined;
}

function siteFor(inv: Inventory, pair: PairSpec): Site {
  const fixtures = fixturesOf(pair);
  const operator = async (action: FaultAction, node: NodeSpec) => {
    const [unit, verb] =
      action === 'stop-heartbeat' ? ['heartbeat', 'stop'] : action === 'start-heartbeat' ? ['heartbeat', 'start'] : action === 'stop-mysql' ? [mysqlUnit(inv.mysql.flavor), 'stop'] : [mysqlUnit(inv.mysql.flavor), 'start'];
    // `service` works on systemd hosts and on init scripts alike.
    await withConnections(inv, async (conn) => (await conn.ssh(node)).run(withoutInheritedPipes(serviceCommand('sysvinit', unit, verb as 'stop' | 'start')), { timeoutMs: 120_000 }));
  };
  return {
    fixtures,
    async inject(action, node) {
      switch (action) {
        case 'crash': return void (await crashHost(node.name));
        case 'boot': return void (await bootHost(node.name));
        case 'partition': return void (await partitionHost(node.name));
        case 'heal': return void (await healHost(node.name));
        case 'kill-mysqld': return void (await killDaemon(node.name, inv.mysql.flavor === 'mariadb' ? 'mariadbd' : 'mysqld'));
        case 'kill-heartbeat': return void (await killDaemon(node.name, 'heartbeat'));
        default: return operator(action, node);
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
  const scenarios = chooseScenarios(opts.scenarios, site.fixtures !== undefined);
  const client = clientPlace(site, opts.clientAddress);
  const account = { user: 'duet_drill', host: client.address };
  const password = new Secret(randomBytes(16).toString('hex'), 'the drill (random, this run only)');
  const run = randomBytes(8).toString('hex');
  const report: DrillReport = { pair: pair.name, onFixtures: site.fixtures !== undefined, steps: [], acked: 0, lost: 0, duplicated: 0, checksumsEqual: false, verifyPassed: false, passed: false, problems: [] };

  log(`${pair.name}: waiting for a healthy pair`);
  await waitHealthy(inv, pair);
  await prepare(inv, pair, account, password);
  const watcher = startWatcher(inv, pair, site);
  const stopDir = mkdtempSync(join(tmpdir(), 'duet-drill-'));
  const writer = startClient(client, pair, account.user, password, run, join(stopDir, 'stop'));
  try {
    await writer.firstAck;
    log(`${pair.name}: the client writes through ${pair.vip.address} (run ${run})`);
    for (const scenario of scenarios) {
      const step = await runStep(inv, pair, site, scenario, watcher.samples, writer.acks, log);
      report.steps.push(step);
      log(`${pair.name}: ${formatStep(step)}`);
    }
  } finally {
    writeFileSync(join(stopDir, 'stop'), '');
    await writer.done;
    watcher.stop();
    rmSync(stopDir, { recursive: true, force: true });
  }
  report.acked = writer.acks.length;
  await finalChecks(inv, pair, run, writer.acks.map((a) => a.seq), report);
  await cleanUp(inv, pair, account);
  report.passed = report.problems.length === 0 && report.steps.every((s) => s.passed);
  return report;
}

async function runStep(inv: Inventory, pair: PairSpec, site: Site, scenario: Scenario, samples: Sample[], acks: Ack[], log: (line: string) => void): Promise<DrillStep> {
  const before = await waitHealthy(inv, pair);
  const writer = pair.nodes.find((n) => n.name === before.writer)!;
  if (scenario.afterFlapWindow) await waitFlapWindow(inv, pair, writer, log);
  const node = scenario.target === 'writer' ? writer : peerOf(pair, writer);
  log(`${pair.name}: ${scenario.name}: ${scenario.what} (${node.name})`);
  const started = Date.now();
  await site.inject(scenario.fault, node);
  if (scenario.holdMs !== undefined) await sleep(scenario.holdMs);
  else await waitOneWriter(samples, pair, started);
  let healed: number | undefined;
  if (scenario.recover) {
    await site.inject(scenario.recover, node);
    healed = Date.now();
  }
  const after = await waitHealthy(inv, pair);
  const ended = Date.now();
  const nodes = pair.nodes.map((n) => n.name);
  const figures = writerFigures(samples, nodes, started, ended);
  const goal = scenario.goal(pair);
  const outageMs = longestGapMs(acks.map((a) => a.t), started, ended);
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
  return (
    `${s.passed ? 'OK  ' : 'FAIL'} ${s.name} (${s.node}): outage ${s.outageMs} ms (goal ${s.goalMs}), two writers ${s.doubleWriterMs} ms, no writer ${s.noWriterMs} ms${heal}; ` +
    `writer ${s.writer ?? 'none'}, floating IP on ${s.ipHolders.join(' and ') || 'no node'}${s.problems.length > 0 ? `\n       ${s.problems.join('\n       ')}` : ''}`
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

/** Status says one writer holding the floating IP, nothing to warn about (replication and Heartbeat running on both). */
async function waitHealthy(inv: Inventory, pair: PairSpec): Promise<PairStatus> {
  const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
  let last: PairStatus | string = 'not read yet';
  for (;;) {
    try {
      // New connections each time: a node that was cut off or crashed leaves dead ones behind.
      last = await withConnections(inv, (conn) => readPairStatus(conn, pair));
      if (last.writer !== undefined && last.warnings.length === 0) return last;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new ApplyError(`pair ${pair.name} did not become healthy within ${HEALTHY_TIMEOUT_MS / 1000} s: ${typeof last === 'string' ? last : last.warnings.join('; ') || 'no writer'}`, {
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
async function prepare(inv: Inventory, pair: PairSpec, account: { user: string; host: string }, password: Secret): Promise<void> {
  await withConnections(inv, async (conn) => {
    const status = await readPairStatus(conn, pair);
    for (const node of pair.nodes) {
      const session = await conn.mysql(node);
      await ensureDuetSchema(session);
      await withBinlogOff(session, async () => {
        await query(session, session.dialect.createUser(account, password));
        await query(session, session.dialect.setPassword(account, password));
        await query(session, grantDrill(account, DRILL_TABLE));
      });
    }
    // Earlier runs' rows go on the writer, binlogged, so both nodes drop them.
    const writer = await conn.mysql(pair.nodes.find((n) => n.name === status.writer)!);
    await query(writer, useDuetSchema);
    await query(writer, `DELETE FROM ${DUET_SCHEMA}.${DRILL_TABLE}`);
  });
}

async function cleanUp(inv: Inventory, pair: PairSpec, account: { user: string; host: string }): Promise<void> {
  await withConnections(inv, async (conn) => {
    for (const node of pair.nodes) {
      const session = await conn.mysql(node);
      await withBinlogOff(session, () => query(session, dropUser(account)));
    }
  });
}

/** Both nodes applied each other's position, then every acknowledged key is on each exactly once and the checksums agree. */
async function finalChecks(inv: Inventory, pair: PairSpec, run: string, acked: number[], report: DrillReport): Promise<void> {
  await withConnections(inv, async (conn) => {
    for (const node of pair.nodes) {
      const peer = await conn.mysql(peerOf(pair, node));
      const [row] = await query(peer, peer.dialect.instanceVariables);
      await waitForGtid(await conn.mysql(node), String(row?.gtid_binlog ?? '').replace(/\s+/g, ''), 60);
    }
    const sums = new Set<string>();
    for (const node of pair.nodes) {
      const session = await conn.mysql(node);
      const rows = (await query(session, { sql: `SELECT seq FROM ${DUET_SCHEMA}.${DRILL_TABLE} WHERE run = ?`, params: [run] })).map((r) => Number(r.seq));
      const { lost, duplicated } = compareRows(acked, rows);
      report.lost = Math.max(report.lost, lost.length);
      report.duplicated = Math.max(report.duplicated, duplicated.length);
      if (lost.length > 0) report.problems.push(`${node.name} lacks ${lost.length} acknowledged write(s): ${lost.slice(0, 10).join(', ')}`);
      if (duplicated.length > 0) report.problems.push(`${node.name} holds ${duplicated.length} write(s) twice`);
      sums.add(String([...(await checksumTables(session, [{ schema: DUET_SCHEMA, table: DRILL_TABLE }])).values()][0]));
    }
    report.checksumsEqual = sums.size === 1;
    if (!report.checksumsEqual) report.problems.push(`the checksums of ${DUET_SCHEMA}.${DRILL_TABLE} differ`);
  });
  const verified = await verify(inv, { ...DEFAULT_VERIFY_OPTIONS, pairs: [pair.name] });
  report.verifyPassed = verified.summary.fail === 0;
  if (!report.verifyPassed) report.problems.push('verify failed at the end');
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

function startClient(place: ClientPlace, pair: PairSpec, user: string, password: Secret, run: string, stopFile: string) {
  const node = [process.execPath, '--import', import.meta.resolve('tsx'), CLIENT];
  const args = ['--host', pair.vip.address, '--user', user, '--table', DRILL_TABLE, '--run', run, '--stop-file', stopFile, '--seconds', '3600'];
  const argv = place.netns ? ['ip', 'netns', 'exec', place.netns, ...node, ...args] : [...node, ...args];
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

/** Samples both nodes every 100 ms: on the fixtures from inside each host (it sees a cut-off node too), else over SSH. */
function startWatcher(inv: Inventory, pair: PairSpec, site: Site): { samples: Sample[]; stop(): void } {
  const samples: Sample[] = [];
  const client = writerRoleScriptSql(inv.mysql.flavor).client;
  const once = `ro=$(timeout 1 ${client} -N -e 'SELECT @@read_only' 2>/dev/null || echo x); if ip -4 -o addr show | grep -q ' ${pair.vip.address}/'; then v=1; else v=0; fi; echo "$(date +%s%3N) $ro $v"`;
  let stopped = false;
  const record = (node: NodeSpec, line: string) => {
    const [t, ro, vip] = line.trim().split(' ');
    if (t && ro && vip) samples.push({ node: node.name, t: Number(t), writable: ro === '0', vip: vip === '1' });
  };
  const children: ChildProcess[] = [];
  if (site.fixtures) {
    // One long-running loop per host; a crash kills it, so it is started again (the host's PID 1 survives).
    const loop = (node: NodeSpec) => {
      if (stopped) return;
      const argv = fixtureExecArgv(node.name, ['sh', '-c', `while :; do ${once}; sleep 0.1; done`]);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => record(node, line));
      child.once('exit', () => {
        samples.push({ node: node.name, t: Date.now(), writable: false, vip: false });
        setTimeout(() => loop(node), SAMPLE_MS);
      });
    };
    pair.nodes.forEach(loop);
  } else {
    void withConnections(inv, async (conn) => {
      while (!stopped) {
        const started = Date.now();
        await Promise.all(pair.nodes.map(async (node) => {
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

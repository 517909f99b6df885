// swap against the fixture pair while an application on app1 writes through the floating IP: no
// acknowledged row lost or duplicated, refusals that change nothing, and a controller killed mid-swap
// that `swap --resume` brings back to one writer holding the IP. Real hosts, no mocks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { FIXTURE_VIP } from '../../src/fixtures/index.ts';
import type { SwapReport } from '../../src/ops/swap.ts';
import { SWAP_STEPS, type SwapStep } from '../../src/ops/swap-journal.ts';
import { STOP_AFTER_ENV } from '../../src/ops/swap-runner.ts';
import { duet, REPO_ROOT } from './helpers/cli.ts';
import { useFixtures } from './helpers/fixtures.ts';
import { DB_NODES, INVENTORY, pairProbe } from './helpers/pair.ts';

const fx = useFixtures();
const pair = pairProbe(fx);
const APP_USER = 'writer';
const APP_PASSWORD = randomBytes(12).toString('hex');
let journalDir = '';
const freezeTimes: number[] = [];

async function swapTo(node: string, ...args: string[]): Promise<SwapReport> {
  const result = await duet('swap', [INVENTORY, node, '--json', '--journal', join(journalDir, 'main.jsonl'), ...args]);
  assert.equal(result.code, 0, `swap to ${node} exited ${result.code}:\n${result.stderr}`);
  assert.ok(!result.stdout.includes(APP_PASSWORD) && !result.stderr.includes(APP_PASSWORD));
  const report = JSON.parse(result.stdout) as SwapReport;
  if (report.freeze_ms !== undefined) freezeTimes.push(report.freeze_ms);
  return report;
}

/** Exactly one writer, holding the floating IP alone; the other read-only; replication running both ways. */
async function assertOneWriter(expected?: string): Promise<string> {
  const holders = await pair.vipHolders();
  assert.equal(holders.length, 1, `floating IP on ${holders.join(', ') || 'no node'}`);
  const writer = holders[0]!;
  if (expected) assert.equal(writer, expected);
  for (const host of DB_NODES) assert.equal(await pair.readOnly(host), host !== writer, `${host} read_only`);
  for (const host of DB_NODES) {
    await pair.waitFor(`replication running on ${host}`, async () => /Slave_IO_Running: Yes[\s\S]*Slave_SQL_Running: Yes/.test(await pair.sh(host, "mariadb -e 'SHOW SLAVE STATUS\\G'")), 10_000);
  }
  for (const host of DB_NODES) {
    const locked = await pair.sql(host, `SELECT COUNT(*) FROM mysql.global_priv WHERE User = '${APP_USER}' AND JSON_VALUE(Priv, '$.account_locked') = 1`);
    assert.equal(locked.trim(), '0', `${APP_USER} is unlocked on ${host}`);
  }
  return writer;
}

/** How often each seq is on `host`. */
async function rowCounts(host: string): Promise<Map<number, number>> {
  const rows = (await pair.sql(host, 'SELECT seq, COUNT(*) FROM app.writes GROUP BY seq')).trim().split('\n').filter((l) => l !== '');
  return new Map(rows.map((l) => l.split('\t').map(Number) as [number, number]));
}

describe('swap', () => {
  before(async () => {
    journalDir = mkdtempSync(join(fx.stateDir, 'journal-'));
    await pair.provision();
    await pair.sql('db1', 'USE app; CREATE TABLE writes (id INT AUTO_INCREMENT PRIMARY KEY, seq INT NOT NULL, KEY (seq))');
    // The application's account on each node (not replicated), with READ_ONLY ADMIN: the bypass a
    // freeze must block. The password travels on stdin only.
    for (const host of DB_NODES) {
      await pair.sh(
        host,
        'mariadb',
        `SET SESSION sql_log_bin = 0; CREATE USER '${APP_USER}'@'198.18.0.13' IDENTIFIED BY '${APP_PASSWORD}'; ` +
          `GRANT SELECT, INSERT ON app.* TO '${APP_USER}'@'198.18.0.13'; GRANT READ_ONLY ADMIN ON *.* TO '${APP_USER}'@'198.18.0.13';`,
      );
    }
    await pair.waitFor('app.writes on db2', async () => (await pair.sql('db2', "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'writes'")).trim() === '1', 10_000);
  }, { timeout: 180_000 });

  it('--dry-run prints every statement and command in order and changes nothing', async () => {
    const result = await duet('swap', [INVENTORY, 'db2', '--dry-run', '--journal', join(journalDir, 'main.jsonl')]);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    // Each line must come after the one before it.
    let from = 0;
    for (const line of [
      /db2 SQL> SELECT MASTER_GTID_WAIT\('[\d,-]+', 30\) = 0 AS reached/, // pre-sync
      /db1 \$ echo \$\(\(\$\(date \+%s\) \+ \d+\)\) > \/run\/duet-maintenance/,
      /db1 SQL> ALTER USER 'writer'@'198\.18\.0\.13' ACCOUNT LOCK/,
      /db1 SQL> SELECT ID, COMMAND FROM information_schema\.PROCESSLIST .*COMMAND NOT IN/, // running statements
      /db1 \$ \(the freeze's holder, kept running:\) exec bash -c .*/,
      /db1 > freeze \(FLUSH TABLES WITH READ LOCK\)/,
      /db2 SQL> SELECT MASTER_GTID_WAIT\('[\d,-]+', 30\) = 0 AS reached/, // the final position
      /db1 > arm/,
      /db2 SQL> INSERT INTO duet\.topology/,
      /db2 SQL> SET GLOBAL read_only = OFF/,
      /db1 \$ sysctl -qw net\.ipv4\.conf\.eth0\.arp_ignore=3 && .*ip addr add 198\.18\.0\.100\/32 dev lo scope host.*ip addr del 198\.18\.0\.100\/24 dev eth0/,
      /db2 \$ date \+%s > \/var\/lib\/heartbeat\/duet-writer-since && .*ip addr add 198\.18\.0\.100\/24 brd \+ dev eth0 label eth0:0/,
      /db1 > fence/,
      /db2 \$ \/usr\/share\/heartbeat\/hb_takeover all/,
      /db1 \$ install \/etc\/ha\.d\/haresources naming db2/,
      /db1 \$ rm -f \/run\/duet-maintenance/,
      /db1 SQL> ALTER USER 'writer'@'198\.18\.0\.13' ACCOUNT UNLOCK/,
    ]) {
      const at = out.slice(from).search(line);
      assert.ok(at >= 0, `no ${line} after position ${from} in:\n${out}`);
      from += at + 1;
    }
    assert.match(out, /dry run: nothing was changed/);
    await assertOneWriter('db1');
    assert.ok(!existsSync(join(journalDir, 'main.jsonl')), 'a dry run writes no journal');
  });

  it('swaps there and back while the application writes: every acknowledged row once on both nodes', async () => {
    const stopFile = join(mkdtempSync(join(tmpdir(), 'duet-writer-')), 'stop');
    // The application runs from app1's address (its network namespace) but reads this checkout.
    const writer = fx.fromNetworkOf(
      'app1',
      [process.execPath, '--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'test/e2e/helpers/writer.ts'), '--host', FIXTURE_VIP, '--user', APP_USER, '--seconds', '90', '--stop-file', stopFile],
      { input: APP_PASSWORD, timeoutMs: 120_000 },
    );
    await pair.waitFor('the first rows', async () => Number((await pair.sql('db1', 'SELECT COUNT(*) FROM app.writes')).trim()) > 20);

    // Every 100 ms while the swap runs: once db2 is writable and holds the IP, it stays so (the
    // Heartbeat alignment after the unfreeze moves nothing a second time).
    let swapping = true;
    const samples: Array<{ ms: number; holders: string[]; db2Writable: boolean }> = [];
    const sampler = (async () => {
      const t0 = Date.now();
      while (swapping) {
        const tick = Date.now();
        const [holders, db2ReadOnly] = await Promise.all([pair.vipHolders(), pair.readOnly('db2')]);
        samples.push({ ms: tick - t0, holders, db2Writable: !db2ReadOnly });
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
      }
    })();
    const there = await swapTo('db2');
    swapping = false;
    await sampler;
    const moved = samples.findIndex((x) => x.db2Writable && x.holders.join() === 'db2');
    assert.ok(moved >= 0, `db2 never seen writable and alone with the IP: ${JSON.stringify(samples)}`);
    const after = samples.slice(moved);
    assert.deepEqual(after.filter((x) => !(x.db2Writable && x.holders.join() === 'db2')), [], 'db2 lost the role or the IP after it got them');
    process.stderr.write(`# ${samples.length} samples, ${after.length} after db2 became the writer, none lost it\n`);
    assert.equal(there.outcome, 'swapped');
    // The address duet brought up is the one Heartbeat's IPaddr sees as running (so the alignment did not start it again).
    assert.match(await pair.sh('db2', `/etc/ha.d/resource.d/IPaddr ${FIXTURE_VIP}/24/eth0 status`), /Running OK/);
    assert.equal((await pair.sh('db2', 'ip -4 -o addr show dev eth0')).split(` ${FIXTURE_VIP}/`).length - 1, 1, 'the floating IP once on db2');
    assert.ok(there.critical_path && there.critical_path.map((s) => s.step).join() === 'freeze,catch up,promote,vip down,vip up,fence', JSON.stringify(there.critical_path));
    assert.equal(there.status.writer, 'db2');
    assert.deepEqual(there.status.warnings.filter((w) => !/haresources/.test(w)), []);
    await assertOneWriter('db2');
    for (const host of DB_NODES) assert.match(await pair.sh(host, 'cat /etc/ha.d/haresources'), /^db2 duet-writer IPaddr::/m, `${host} records db2`);
    const topology = await pair.sql('db1', "SELECT node FROM duet.topology WHERE role = 'writer' ORDER BY epoch DESC LIMIT 1");
    assert.equal(topology.trim(), 'db2', 'the topology names the new writer on the old one too');
    await pair.waitFor('rows written through db2', async () => Number((await pair.sql('db2', `SELECT COUNT(*) FROM app.writes WHERE id % 10 = 2`)).trim()) > 20);

    const back = await swapTo('db1');
    assert.equal(back.outcome, 'swapped');
    await pair.waitFor('rows written through db1 again', async () => Number((await pair.sql('db1', `SELECT COUNT(*) FROM app.writes WHERE id % 10 = 1 AND id > (SELECT MAX(id) FROM app.writes WHERE id % 10 = 2)`)).trim()) > 20);
    writeFileSync(stopFile, '');
    const result = await writer;
    assert.equal(result.code, 0, result.stderr);
    const { acknowledged, failed, errors } = JSON.parse(result.stdout) as { acknowledged: number[]; failed: number[]; errors: Record<string, number> };
    process.stderr.write(`# writer: ${acknowledged.length} acknowledged, ${failed.length} failed (${JSON.stringify(errors)}); freeze ${there.freeze_ms} ms, ${back.freeze_ms} ms\n`);

    await assertOneWriter('db1');
    const on1 = await rowCounts('db1');
    await pair.waitFor('db2 has every row of db1', async () => (await rowCounts('db2')).size === on1.size, 10_000);
    for (const [host, counts] of [['db1', on1], ['db2', await rowCounts('db2')]] as const) {
      const lost = acknowledged.filter((seq) => counts.get(seq) !== 1);
      assert.deepEqual(lost, [], `${host}: acknowledged rows missing or duplicated`);
      assert.deepEqual([...counts].filter(([, n]) => n > 1), [], `${host}: duplicated rows`);
      assert.deepEqual([...counts.keys()].filter((seq) => !acknowledged.includes(seq) && !failed.includes(seq)), [], `${host}: rows nobody wrote`);
    }
    for (const host of DB_NODES) assert.match(await pair.sh(host, 'cat /etc/ha.d/haresources'), /^db1 duet-writer IPaddr::/m, `${host} records db1`);
    const verify = await duet('verify', [INVENTORY]);
    assert.equal(verify.code, 0, `verify after the swaps:\n${verify.stdout}\n${verify.stderr}`);
  });

  it('is refused when the target does not apply replication, and changes nothing', async () => {
    await pair.sql('db2', 'STOP SLAVE SQL_THREAD');
    const snapshot = async () =>
      JSON.stringify({
        holders: await pair.vipHolders(),
        readOnly: [await pair.readOnly('db1'), await pair.readOnly('db2')],
        epoch: await pair.sql('db1', 'SELECT MAX(epoch) FROM duet.topology'),
        haresources: [await pair.sh('db1', 'cat /etc/ha.d/haresources'), await pair.sh('db2', 'cat /etc/ha.d/haresources')],
        locked: await pair.sql('db1', `SELECT COUNT(*) FROM mysql.global_priv WHERE JSON_VALUE(Priv, '$.account_locked') = 1`),
      });
    const before = await snapshot();
    const result = await duet('swap', [INVENTORY, 'db2', '--journal', join(journalDir, 'refused.jsonl')]);
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, /swap of pair main refused, nothing was changed:\n\s+- replication on db2 \(from db1\) is not running \(I\/O Yes, SQL No\)/);
    assert.equal(await snapshot(), before);
    assert.equal((await duet('swap', [INVENTORY, 'db2', '--force', '--journal', join(journalDir, 'refused.jsonl')])).code, 6, '--force does not override it');
    await pair.sql('db2', 'START SLAVE SQL_THREAD');
  });

  // The controller stopped (exit 9, like a crash) right after each step was journaled done, and once
  // inside the commit step (its IP up, not journaled done): before the IP is up on the target, the
  // resume undoes (the old writer is the writer again); after it, it finishes (the target is).
  const stops = [...SWAP_STEPS.slice(0, SWAP_STEPS.indexOf('vip up')), 'vip up!', ...SWAP_STEPS.slice(SWAP_STEPS.indexOf('vip up'))];
  for (const stop of stops) {
    const committed = SWAP_STEPS.indexOf(stop as SwapStep) >= SWAP_STEPS.indexOf('vip up');
    it(`a controller stopped after "${stop}" is brought back by --resume: ${committed ? 'the target is' : 'the old writer is'} the writer`, async () => {
      const writer = await assertOneWriter();
      const target = writer === 'db1' ? 'db2' : 'db1';
      const journal = join(journalDir, `stop-${stop.replace(/\W/g, '-')}.jsonl`);
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/swap.ts'), INVENTORY, target, '--journal', journal], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, [STOP_AFTER_ENV]: stop },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(code, 9, `the swap did not stop after ${stop}:\n${stderr}`);

      // Before any resume, the holder of the freeze on the old writer acted alone when the
      // controller went: thawed before it was armed (the old writer takes writes again), fenced after.
      const armed = ['promote', 'vip down', 'vip up!'].includes(stop);
      if (armed) await pair.waitFor(`the holder fenced ${writer}`, async () => await pair.readOnly(writer), 10_000);
      if (['freeze', 'catch up'].includes(stop)) {
        // A write that waits for the freeze's lock gives up after 2 s: this one goes through.
        await pair.sql(writer, 'SET SESSION lock_wait_timeout = 2; SET SESSION sql_log_bin = 0; CREATE TABLE app.thawed (id INT); DROP TABLE app.thawed');
        assert.equal(await pair.readOnly(writer), false, `${writer} still takes writes`);
      }

      if (stop === 'freeze') {
        const refused = await duet('swap', [INVENTORY, target, '--journal', journal]);
        assert.equal(refused.code, 2, 'a new swap is refused while one is unfinished');
        assert.match(refused.stderr, /did not finish.*\n\s+hint: run swap --resume/);
      }

      const resumed = await duet('swap', [INVENTORY, '--resume', '--json', '--journal', journal]);
      assert.equal(resumed.code, 0, resumed.stderr);
      const report = JSON.parse(resumed.stdout) as SwapReport;
      assert.equal(report.outcome, committed ? 'swapped' : 'rolled back');
      const now = await assertOneWriter(committed ? target : writer);
      for (const host of DB_NODES) {
        assert.equal((await pair.sh(host, 'test -e /run/duet-maintenance && echo window || echo none')).trim(), 'none', `${host}: the maintenance window is closed`);
      }
      const topology = await pair.sql(now, "SELECT node FROM duet.topology WHERE role = 'writer' ORDER BY epoch DESC LIMIT 1");
      assert.equal(topology.trim(), now, 'the topology names the writer at the highest epoch');
      process.stderr.write(`# stopped after ${stop}: resume ${report.outcome}, writer ${now}\n`);
      assert.match(readFileSync(journal, 'utf8').trim().split('\n').at(-1)!, /"event":"end"/);
    });
  }

  it('runs the inventory\'s swap hooks on this machine with who, from and to', async () => {
    const writer = await assertOneWriter();
    const target = writer === 'db1' ? 'db2' : 'db1';
    // The fixture inventory plus hooks, beside it (its secrets are named relative to its folder).
    const hooked = join(REPO_ROOT, 'inventory', `.hooks-e2e-${process.pid}.yml`);
    const out = join(mkdtempSync(join(tmpdir(), 'duet-hooks-')), 'hooks.log');
    writeFileSync(
      hooked,
      `${readFileSync(INVENTORY, 'utf8')}\nhooks:\n` +
        `  pre_swap: { run: 'echo "$DUET_HOOK $DUET_PAIR $DUET_OLD_WRITER $DUET_NEW_WRITER $DUET_VIP" >> ${out}' }\n` +
        `  post_swap: { run: 'echo "$DUET_HOOK $DUET_OLD_WRITER $DUET_NEW_WRITER" >> ${out}' }\n`,
    );
    try {
      const result = await duet('swap', [hooked, target, '--journal', join(journalDir, 'hooks.jsonl')]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(readFileSync(out, 'utf8'), `pre_swap main ${writer} ${target} ${FIXTURE_VIP}\npost_swap ${writer} ${target}\n`);
      await assertOneWriter(target);
    } finally {
      rmSync(hooked, { force: true });
    }
  });

  it('reports the freeze times', () => {
    process.stderr.write(`# freeze_ms of the swaps: ${freezeTimes.join(', ')}\n`);
    assert.ok(freezeTimes.length >= 2);
  });
});

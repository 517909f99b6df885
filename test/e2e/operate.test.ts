// Operating a provisioned fixture pair by hand: status, readonly, replication, and the writable role
// following the floating IP when Heartbeat moves it (its duet-writer resource). Real hosts, no mocks.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { PairStatus } from '../../src/ops/status.ts';
import { duet } from './helpers/cli.ts';
import { useFixtures } from './helpers/fixtures.ts';
import { INVENTORY, pairProbe } from './helpers/pair.ts';

const fx = useFixtures();
const pair = pairProbe(fx);

async function status(): Promise<{ code: number; text: string; json: PairStatus }> {
  const text = await duet('status', [INVENTORY]);
  const json = await duet('status', [INVENTORY, '--json']);
  const parsed = JSON.parse(json.stdout) as { pairs: PairStatus[] };
  assert.equal(json.code, text.code);
  return { code: text.code, text: text.stdout, json: parsed.pairs[0]! };
}

const epochOn = async (host: string) => Number((await pair.sql(host, 'SELECT MAX(epoch) FROM duet.topology')).trim());
const writerOn = async (host: string) => (await pair.sql(host, "SELECT node FROM duet.topology WHERE role = 'writer' ORDER BY epoch DESC LIMIT 1")).trim();

describe('operating the pair', () => {
  before(() => pair.provision(), { timeout: 120_000 });

  it('status lists the writer first and exits 0 on a healthy pair; the topology names it on both nodes', async () => {
    const { code, text, json } = await status();
    assert.equal(code, 0, text);
    const lines = text.trim().split('\n');
    assert.match(lines[0]!, /^pair main: writer db1 \(floating IP 198\.18\.0\.100, epoch 1\)$/);
    assert.match(lines[1]!, /^NODE: db1 has write IP, is writable, replication running over TLS, \d+s delay, commits wait for the peer, heartbeat running, epoch 1$/);
    assert.match(lines[2]!, /^NODE: db2 no write IP, is read-only, replication running over TLS, \d+s delay, heartbeat running, epoch 1$/);
    assert.equal(json.writer, 'db1');
    assert.deepEqual(json.warnings, []);
    for (const host of ['db1', 'db2']) assert.equal(await writerOn(host), 'db1', `duet.topology on ${host}`);
  });

  it('readonly off refuses a second writer and changes nothing', async () => {
    const result = await duet('readonly', [INVENTORY, 'off', 'db2']);
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, /db1 is writable: making db2 writable too would give the pair two writers/);
    assert.equal(await pair.readOnly('db2'), true);
  });

  it('readonly on the writer leaves the pair without one (loudly), readonly off makes it the writer at a new epoch', async () => {
    const on = await duet('readonly', [INVENTORY, 'on', 'db1']);
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /^db1 is read-only$/m);
    assert.match(on.stdout, /db1 holds the floating IP: the application cannot write/);
    assert.match(on.stdout, /WARNING: NEITHER node is writable/);
    assert.match(on.stdout, /WARNING: the floating IP 198\.18\.0\.100 is on the READ-ONLY node db1/);
    assert.equal((await status()).code, 1, 'status exits 1 while it warns');

    const before = await epochOn('db1');
    const off = await duet('readonly', [INVENTORY, 'off', 'db1']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(await pair.readOnly('db1'), false);
    assert.equal(await epochOn('db1'), before + 1);
    await pair.waitFor('the new epoch on db2', async () => (await epochOn('db2')) === before + 1, 5_000);
  });

  it('replication stop and start on a node', async () => {
    const stop = await duet('replication', [INVENTORY, 'stop', 'db2']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /NODE: db2 no write IP, is read-only, replication stopped/);
    assert.match(stop.stdout, /WARNING: replication on db2 is stopped/);
    const start = await duet('replication', [INVENTORY, 'start', 'db2']);
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /NODE: db2 no write IP, is read-only, replication running/);
    assert.equal((await status()).code, 0);
  });

  it('when Heartbeat moves the floating IP, the write role follows it; provision afterwards keeps it there', async () => {
    // With binlog_do_db, DDL replicates only when issued in the replicated database.
    await pair.sql('db1', 'USE app; CREATE TABLE moved (id INT PRIMARY KEY); INSERT INTO moved VALUES (1)');
    const before = await epochOn('db1');
    // A clean Heartbeat stop on the writer: its resources go to the peer (freeze on db1, then start on db2).
    await pair.sh('db1', 'service heartbeat stop </dev/null >/dev/null 2>&1');
    await pair.waitFor('the floating IP on db2', async () => (await pair.vipHolders()).join() === 'db2');
    assert.equal(await pair.readOnly('db2'), false, 'db2 became writable with the IP');
    assert.equal(await pair.readOnly('db1'), true, 'db1 was frozen when it gave the IP up');
    assert.equal((await pair.sql('db2', 'SELECT COUNT(*) FROM app.moved')).trim(), '1', 'db2 applied what db1 wrote before it became writable');
    assert.equal(await writerOn('db2'), 'db2');
    assert.equal(await epochOn('db2'), before + 1);
    assert.match(await pair.sh('db2', 'cat /var/log/ha-log'), /duet-writer \(db2\): ROLE: db2 is the writer: db1 answered: fenced/);

    await pair.sh('db1', 'service heartbeat start </dev/null >/dev/null 2>&1');
    // duet's monitor keeps haresources naming whoever has the role (Heartbeat takes a dead node's
    // resources over only when that node owns them there): on db2 at once, on db1 once it runs again.
    for (const host of ['db1', 'db2']) {
      await pair.waitFor(`haresources on ${host} names db2`, async () => /^db2 duet-writer /m.test(await pair.sh(host, 'cat /etc/ha.d/haresources')), 15_000);
    }
    const after = await status();
    assert.equal(after.json.writer, 'db2');
    assert.deepEqual(after.json.nodes.map((n) => n.node), ['db2', 'db1']);
    assert.match(after.text, /^last move: .* db2 is the writer: db1 answered: fenced/m);
    assert.doesNotMatch(after.text, /haresources names/);

    await pair.provision();
    assert.deepEqual(await pair.vipHolders(), ['db2'], 'provision left the IP where it was');
    assert.equal(await pair.readOnly('db2'), false);
    assert.equal(await pair.readOnly('db1'), true);
  });
});

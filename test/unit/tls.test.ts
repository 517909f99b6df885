// TLS between the peers: the controller's folder (planPki, preparePki with the real openssl, no
// network), the node's files, the service a new certificate runs, and verify's tls check.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InventoryError } from '../../src/errors.ts';
import type { Inventory } from '../../src/inventory/model.ts';
import { redact } from '../../src/inventory/secret.ts';
import { checkTls } from '../../src/ops/verify-checks.ts';
import { preparePki } from '../../src/ops/tls.ts';
import { planHost } from '../../src/plan/plan.ts';
import { desiredFiles, TLS_PATHS } from '../../src/render/desired.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';
import { verifiedTls } from './helpers/tls.ts';
import type { ReplicaStatus } from '../../src/mysql/model.ts';

const scratch = mkdtempSync(join(tmpdir(), 'duet-tls-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let folders = 0;
function inventory(): Inventory {
  const inv = sampleInventory();
  inv.mysql.tls = { dir: join(scratch, `cluster-${++folders}`, 'tls'), days: 397, renewDays: 30 };
  return inv;
}
const DAY = 86_400_000;

describe('preparePki', () => {
  it('creates a CA and a certificate per node, keeps them only on commit (0700 / 0600), then plans nothing', async () => {
    const inv = inventory();
    const nodes = inv.pairs[0]!.nodes;
    const first = await preparePki(inv, nodes);
    assert.deepEqual(
      first.actions.map((a) => a.kind),
      ['create-ca', 'issue', 'issue'],
    );
    assert.match(first.actions[1]!.text, /issue a key and certificate for db-01 \(IP 192\.0\.2\.11\) signed by the cluster CA \(the CA is new\)/);
    assert.equal(existsSync(inv.mysql.tls.dir), false, 'nothing is kept before commit');
    const db1 = first.material.get('db-01')!;
    assert.match(db1.cert, /^-----BEGIN CERTIFICATE-----/);
    assert.ok(inv.secrets.includes(db1.key), 'the key is redacted from output');
    assert.equal(redact(`key: ${db1.key.reveal()}`, inv.secrets), 'key: [redacted]');
    assert.equal(String(db1.key).includes('PRIVATE'), false);
    await first.commit();
    await first.discard();
    assert.equal(statSync(inv.mysql.tls.dir).mode & 0o777, 0o700);
    for (const file of ['ca.key', 'ca.pem', 'db-01.key', 'db-01.pem', 'db-02.key', 'db-02.pem']) {
      assert.equal(statSync(join(inv.mysql.tls.dir, file)).mode & 0o777, 0o600, file);
    }
    assert.equal(readFileSync(join(inv.mysql.tls.dir, 'db-01.pem'), 'utf8'), db1.cert, 'the folder holds what was planned');
    const second = await preparePki(inv, nodes);
    assert.deepEqual(second.actions, []);
    assert.equal(second.material.get('db-01')!.cert, db1.cert);

    // Due for renewal: within renew_days of the end of its validity.
    const later = await preparePki(inv, nodes, { now: new Date(Date.now() + 370 * DAY) });
    assert.deepEqual(later.actions.map((a) => a.kind), ['issue', 'issue']);
    assert.match(later.actions[0]!.text, /\(it expires on \d{4}-\d{2}-\d{2}\)$/);
    await later.discard();
    assert.equal(readFileSync(join(inv.mysql.tls.dir, 'db-01.pem'), 'utf8'), db1.cert, 'a dry run changes nothing');

    // A node whose address changed, a certificate of another CA, a missing key.
    const moved = sampleInventory().pairs[0]!.nodes.map((n) => ({ ...n }));
    moved[0]!.address = '192.0.2.21';
    assert.match((await preparePki(inv, moved)).actions[0]!.text, /\(it does not name 192\.0\.2\.21\)$/);
    const other = inventory();
    const foreign = await preparePki(other, other.pairs[0]!.nodes);
    writeFileSync(join(inv.mysql.tls.dir, 'db-02.pem'), foreign.material.get('db-02')!.cert);
    writeFileSync(join(inv.mysql.tls.dir, 'db-02.key'), foreign.material.get('db-02')!.key.reveal(), { mode: 0o600 });
    await foreign.discard();
    assert.deepEqual((await preparePki(inv, nodes)).actions.map((a) => a.text.replace(/.*\(/, '(')), ['(it was not signed by the cluster CA)']);
    rmSync(join(inv.mysql.tls.dir, 'db-02.key'));
    assert.deepEqual((await preparePki(inv, nodes)).actions.map((a) => a.text.replace(/.*\(/, '(')), ['(it has none)']);
  });

  it('refuses a folder or a key that others can read, and half a CA', async () => {
    const inv = inventory();
    const nodes = inv.pairs[0]!.nodes;
    const pki = await preparePki(inv, nodes);
    await pki.commit();
    await pki.discard();
    chmodSync(inv.mysql.tls.dir, 0o755);
    await assert.rejects(preparePki(inv, nodes), (err) => err instanceof InventoryError && err.issues[0]!.path === 'mysql.tls.dir' && /chmod 700/.test(err.issues[0]!.hint ?? ''));
    chmodSync(inv.mysql.tls.dir, 0o700);
    chmodSync(join(inv.mysql.tls.dir, 'ca.key'), 0o640);
    await assert.rejects(preparePki(inv, nodes), (err) => err instanceof InventoryError && /ca\.key is accessible by group or others/.test(err.issues[0]!.message));
    rmSync(join(inv.mysql.tls.dir, 'ca.key'));
    await assert.rejects(preparePki(inv, nodes), (err) => err instanceof InventoryError && /holds only one of ca\.key and ca\.pem/.test(err.issues[0]!.message));
  });
});

describe('the node files', () => {
  it('installs the CA and certificate 0644 and the key 0600 owned by mysql; my.cnf names them', async () => {
    const inv = inventory();
    const pair = inv.pairs[0]!;
    const pki = await preparePki(inv, pair.nodes);
    await pki.discard();
    const tls = pki.material.get('db-01')!;
    const files = desiredFiles(inv, pair, pair.nodes[0], { tls });
    const byPath = new Map(files.map((f) => [f.path, f]));
    assert.deepEqual(
      [TLS_PATHS.ca, TLS_PATHS.cert, TLS_PATHS.key].map((p) => {
        const f = byPath.get(p)!;
        return [f.mode, `${f.owner}:${f.group}`, f.secret, f.service];
      }),
      [
        [0o644, 'root:root', false, 'tls'],
        [0o644, 'root:root', false, 'tls'],
        [0o600, 'mysql:mysql', true, 'tls'],
      ],
    );
    const cnf = files.find((f) => f.check === 'mysqld-options')!.content;
    assert.match(cnf, /^ssl_ca = \/etc\/mysql\/duet-ca\.pem\nssl_cert = \/etc\/mysql\/duet-cert\.pem\nssl_key = \/etc\/mysql\/duet-key\.pem$/m);
    assert.equal(desiredFiles(inv, pair, pair.nodes[0]).some((f) => f.service === 'tls'), false, 'without material: no certificate files');

    // A new certificate alone reloads (FLUSH SSL); with my.cnf changed too, the restart reads it.
    const plan = planHost('db-01', files, new Map(files.filter((f) => f.service !== 'tls').map((f) => [f.path, { path: f.path, exists: true, mode: f.mode, owner: f.owner, group: f.group, content: f.content }])), inv.secrets);
    assert.deepEqual(plan.services, ['tls']);
    const key = plan.changes.find((c) => c.file.path === TLS_PATHS.key)!;
    assert.doesNotMatch(key.diff, /PRIVATE KEY-----\n[A-Za-z0-9+/]/);
    assert.ok(!key.diff.includes(tls.key.reveal().split('\n')[1]!), 'no line of the key in the diff');
    assert.deepEqual(planHost('db-01', files, new Map(), inv.secrets).services, ['mysql', 'firewall', 'heartbeat', 'agent']);
  });
});

describe('checkTls', () => {
  const inv = sampleInventory();
  const pair = inv.pairs[0]!;
  const db2 = pair.nodes[1];
  const replica = (tls: ReplicaStatus['tls']) => ({ tls }) as ReplicaStatus;

  it('passes a verified TLS replica and an account that requires X509', () => {
    const [finding] = checkTls(inv, pair, db2, replica(verifiedTls), { exists: true, sslType: 'X509' });
    assert.equal(finding!.status, 'ok');
    assert.match(finding!.message, /replicates from db-01 over TLS, its certificate verified against the cluster CA; repl@192\.0\.2\.11 requires X509/);
  });

  it('warns about a certificate due for renewal, and fails an expired one', () => {
    const now = new Date('2027-01-01T00:00:00Z');
    const soon = checkTls(inv, pair, db2, replica(verifiedTls), { exists: true, sslType: 'X509' }, new Date('2027-01-11T00:00:00Z'), now);
    assert.deepEqual(soon.map((f) => f.status), ['warn', 'ok']);
    assert.match(soon[0]!.message, /its certificate expires on 2027-01-11 \(mysql\.tls\.renew_days 30\)/);
    assert.match(soon[0]!.hint!, /run provision/);
    const expired = checkTls(inv, pair, db2, replica(verifiedTls), { exists: true, sslType: 'X509' }, new Date('2026-12-01T00:00:00Z'), now);
    assert.deepEqual(expired.map((f) => f.status), ['fail']);
    assert.equal(checkTls(inv, pair, db2, replica(verifiedTls), { exists: true, sslType: 'X509' }, new Date('2027-06-01T00:00:00Z'), now).length, 1);
  });

  it('fails clear text, an unverified source, and an account without REQUIRE X509, naming the fix', () => {
    const clear = checkTls(inv, pair, db2, replica({ enabled: false, verifyServerCert: false, ca: '', cert: '', key: '' }), { exists: true, sslType: '' });
    assert.deepEqual(clear.map((f) => [f.status, f.message]), [
      ['fail', 'replicates from db-01 in clear text (MASTER_SSL off)'],
      ['fail', 'the replication account repl@192.0.2.11 accepts logins without a client certificate (REQUIRE NONE)'],
    ]);
    assert.match(clear[0]!.hint!, /run provision/);
    const unverified = checkTls(inv, pair, db2, replica({ ...verifiedTls, verifyServerCert: false }), { exists: true, sslType: 'ANY' });
    assert.match(unverified[0]!.message, /over TLS without verifying the source's certificate/);
    assert.match(unverified[1]!.message, /REQUIRE ANY/);
  });
});

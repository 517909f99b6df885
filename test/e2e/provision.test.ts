// provision against the fixture hosts: real sshd, MariaDB, iptables and Heartbeat, no mocks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_VIP, SECRET_FILES } from '../../src/fixtures/index.ts';
import type { ProvisionReport } from '../../src/ops/provision.ts';
import { duet, REPO_ROOT } from './helpers/cli.ts';
import { useFixtures } from './helpers/fixtures.ts';

const fx = useFixtures();
const INVENTORY = join(REPO_ROOT, 'inventory/fixtures.yml');
const CNF = '/etc/mysql/mariadb.conf.d/60-duet.cnf';
/** The client options of a replica's login: the cluster CA, the node's own certificate and key (REQUIRE X509). */
const CLIENT_TLS = '--ssl-ca=/etc/mysql/duet-ca.pem --ssl-cert=/etc/mysql/duet-cert.pem --ssl-key=/etc/mysql/duet-key.pem --ssl-verify-server-cert';

async function sh(host: string, command: string): Promise<string> {
  const result = await fx.ssh(host, command);
  assert.equal(result.code, 0, `${host}: \`${command}\` exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

const sql = (host: string, statement: string) => sh(host, `mariadb -Nse ${JSON.stringify(statement)}`);
// As an application does: connected to its database. With binlog_do_db, DDL is filtered by the
// default database, so a CREATE TABLE app.t issued without it would not replicate.
const appSql = (host: string, statement: string) => sh(host, `mariadb app -Nse ${JSON.stringify(statement)}`);

/** A copy of the fixture inventory with absolute paths, changed by `edit`, in a temp dir. */
function inventoryVariant(edit: (text: string) => string): string {
  const text = readFileSync(INVENTORY, 'utf8').replaceAll('../.fixtures/', `${fx.stateDir}/`);
  const dir = mkdtempSync(join(fx.stateDir, 'inv-'));
  const path = join(dir, 'inventory.yml');
  writeFileSync(path, edit(text));
  return path;
}

/** Every secret of the fixture inventory, and every line of each TLS key: none may ever appear in duet's output. */
function secrets(): string[] {
  const tlsDir = join(fx.stateDir, 'tls');
  const keyLines = existsSync(tlsDir)
    ? readdirSync(tlsDir)
        .filter((f) => f.endsWith('.key'))
        .flatMap((f) => readFileSync(join(tlsDir, f), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('-----')))
    : [];
  return [...Object.values(SECRET_FILES).map((file) => readFileSync(join(fx.stateDir, 'secrets', file), 'utf8')), ...keyLines];
}

async function provisionJson(...args: string[]): Promise<{ code: number; report: ProvisionReport; stderr: string }> {
  const result = await duet('provision', [INVENTORY, '--json', ...args]);
  for (const secret of secrets()) assert.ok(!`${result.stdout}${result.stderr}`.includes(secret), 'a secret was printed');
  let report: ProvisionReport;
  try {
    report = JSON.parse(result.stdout) as ProvisionReport;
  } catch {
    assert.fail(`provision printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { code: result.code, report, stderr: result.stderr };
}

async function noManagedFiles(): Promise<void> {
  for (const host of ['db1', 'db2']) {
    assert.equal((await fx.ssh(host, `test -e ${CNF} || test -e /etc/ha.d/ha.cf || test -e /etc/iptables.rules`)).code, 1, `${host} was changed`);
  }
}

async function vipHolders(): Promise<string[]> {
  const holders: string[] = [];
  for (const host of ['db1', 'db2']) {
    const out = await fx.exec(host, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    if (out.stdout.includes(` ${FIXTURE_VIP}/`)) holders.push(host);
  }
  return holders;
}

/** From app1: does a TCP connection to address:port open within 2 s? */
async function appCanConnect(address: string, port: number): Promise<boolean> {
  const probe = await fx.exec('app1', ['timeout', '2', 'bash', '-c', `</dev/tcp/${address}/${port}`]);
  return probe.code === 0;
}

async function daemonPids(): Promise<string> {
  const out: string[] = [];
  for (const host of ['db1', 'db2']) out.push(`${host}: ${(await fx.exec(host, ['pidof', 'mariadbd', 'heartbeat'])).stdout.trim()}`);
  return out.join('; ');
}

/** The status of host's replica, once its I/O thread runs (or after 5 s). */
async function replicaStatus(host: string, running = true): Promise<string> {
  let status = '';
  for (let i = 0; i < 50; i++) {
    status = await sh(host, `mariadb -e 'SHOW SLAVE STATUS\\G'`);
    if (/Slave_IO_Running: Yes/.test(status) === running && /Slave_SQL_Running: Yes/.test(status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

/**
 * Replication both ways over TLS with verification: each replica's settings, a fresh connection of
 * each I/O thread, and the replication account refusing a login without a client certificate.
 */
async function assertTls(): Promise<void> {
  const password = readFileSync(join(fx.stateDir, 'secrets', SECRET_FILES.replPassword), 'utf8').trim();
  for (const [host, peer] of [['db1', 'db2'], ['db2', 'db1']] as const) {
    assert.equal(await sh(host, 'stat -c %a:%U /etc/mysql/duet-key.pem'), '600:mysql\n');
    assert.equal(await sql(host, 'SELECT @@have_ssl'), 'YES\n');
    // A fresh connection: the I/O thread verifies the peer's certificate again and presents its own.
    await sql(host, 'STOP SLAVE IO_THREAD; START SLAVE IO_THREAD');
    const status = await replicaStatus(host);
    assert.match(status, /Slave_IO_Running: Yes/, `${host}: ${status}`);
    assert.match(status, /Master_SSL_Allowed: Yes/, `${host}: ${status}`);
    assert.match(status, /Master_SSL_Verify_Server_Cert: Yes/, `${host}: ${status}`);
    assert.match(status, /Master_SSL_CA_File: \/etc\/mysql\/duet-ca\.pem/, `${host}: ${status}`);
    assert.equal(await sql(peer, `SELECT ssl_type FROM mysql.user WHERE User = 'repl' AND Host = '${fx.address(host)}'`), 'X509\n');
    const login = (options: string) => fx.ssh(host, `mariadb -h ${fx.address(peer)} -u repl --password="$(cat)" ${options} -Nse 'SELECT 1'`, { input: password });
    assert.equal((await login(CLIENT_TLS)).code, 0, `${host} -> ${peer} over TLS with its certificate`);
    const clear = await login('--skip-ssl');
    assert.notEqual(clear.code, 0, `${host} -> ${peer} without TLS`);
    assert.match(clear.stderr, /Access denied/);
    assert.notEqual((await login('--ssl --ssl-ca=/etc/mysql/duet-ca.pem')).code, 0, `${host} -> ${peer} over TLS without a client certificate`);
  }
}

describe('provision', () => {
  it('refuses a bad inventory with a precise error and touches no host', async () => {
    const path = inventoryVariant((t) => t.replace('server_id: 12', 'server_id: 11'));
    const result = await duet('provision', [path, '--yes']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /pairs\[0\]\.nodes\[1\]\.server_id: server_id 11 is already used at pairs\[0\]\.nodes\[0\]\.server_id/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace for bad input');
    await noManagedFiles();
  });

  it('refuses an unknown host key and touches no host', async () => {
    const keyDir = mkdtempSync(join(fx.stateDir, 'key-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'k')]);
    const otherKey = readFileSync(join(keyDir, 'k.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    // db2's real keys (all types) replaced by another key: what a man in the middle would present.
    const knownHosts = readFileSync(join(fx.stateDir, 'known_hosts'), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('198.18.0.12,db2 '))
      .concat(`198.18.0.12,db2 ${otherKey}`)
      .join('\n');
    writeFileSync(join(keyDir, 'known_hosts'), knownHosts);
    const path = inventoryVariant((t) => t.replace(`${fx.stateDir}/known_hosts`, join(keyDir, 'known_hosts')));
    const result = await duet('provision', [path, '--yes']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /db2: .*host key/i);
    await noManagedFiles();
  });

  it('takes a bare pair to master-master replication with the floating IP on the preferred node', async () => {
    const started = Date.now();
    const { code, report, stderr } = await provisionJson('--yes');
    process.stderr.write(`# cold provision: ${Date.now() - started} ms\n`);
    assert.equal(code, 0, `${stderr}\n${JSON.stringify(report.pairs)}`);
    assert.equal(report.summary.failed, 0);
    assert.ok(report.summary.changed > 0);
    assert.equal(report.pairs[0]?.writer, 'db1');

    for (const host of ['db1', 'db2']) {
      const status = await sh(host, `mariadb -e 'SHOW SLAVE STATUS\\G'`);
      assert.match(status, /Slave_IO_Running: Yes/, `${host}: ${status}`);
      assert.match(status, /Slave_SQL_Running: Yes/, `${host}: ${status}`);
      assert.match(status, new RegExp(`Master_Host: ${host === 'db1' ? '198.18.0.12' : '198.18.0.11'}`));
      assert.match(status, /Using_Gtid: Slave_Pos/);
    }
    assert.equal(await sql('db1', 'SELECT @@read_only'), '0\n');
    assert.equal(await sql('db2', 'SELECT @@read_only'), '1\n');

    // Rows written on each node appear on the other, with interleaved auto-increment ids.
    await appSql('db1', 'CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, src VARCHAR(10))');
    await appSql('db1', "INSERT INTO t (src) VALUES ('db1'), ('db1')");
    for (let i = 0; i < 50 && (await sql('db2', "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app'")) !== '1\n'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await appSql('db2', "INSERT INTO t (src) VALUES ('db2'), ('db2')"); // as root: READ ONLY ADMIN passes read_only
    const want = '1\tdb1\n11\tdb1\n12\tdb2\n22\tdb2\n';
    for (const host of ['db1', 'db2']) {
      let rows = '';
      for (let i = 0; i < 50 && rows !== want; i++) {
        rows = await sql(host, 'SELECT id, src FROM app.t ORDER BY id');
        if (rows !== want) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(rows, want, `${host} sees`);
    }

    assert.deepEqual(await vipHolders(), ['db1']);
    // Firewall: the application host reaches MySQL on the floating IP only.
    assert.equal(await appCanConnect(FIXTURE_VIP, 3306), true, 'app1 -> VIP:3306');
    assert.equal(await appCanConnect(fx.address('db1'), 3306), false, 'app1 -> db1:3306');
    assert.equal(await appCanConnect(fx.address('db2'), 3306), false, 'app1 -> db2:3306');
    assert.match(await sh('db1', 'iptables -S INPUT'), /^-P INPUT DROP$/m);

    // TLS: the CA and each node's key on the controller (0700 / 0600), planned and reported.
    assert.equal(report.tls.length, 3, JSON.stringify(report.tls));
    assert.match(report.tls[0]!, /^create the CA of cluster fixtures in /);
    const tlsDir = join(fx.stateDir, 'tls');
    assert.equal(statSync(tlsDir).mode & 0o777, 0o700);
    for (const file of ['ca.key', 'db1.key', 'db2.key']) assert.equal(statSync(join(tlsDir, file)).mode & 0o777, 0o600, file);
    await assertTls();
    // IPv6 too: default deny, and SSH from the inventory's IPv6 network (ssh_from) only there.
    for (const host of ['db1', 'db2']) {
      const v6 = await sh(host, 'ip6tables -S');
      assert.match(v6, /^-P INPUT DROP$/m, `${host} ip6tables`);
      assert.match(v6, /^-P FORWARD DROP$/m, `${host} ip6tables`);
      assert.match(v6, /^-A INPUT -s 2001:db8:18::\/64 -p tcp -m tcp --dport 22 -j ACCEPT$/m, `${host} ip6tables`);
      assert.match(v6, /^-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT$/m, `${host} ip6tables`);
      assert.doesNotMatch(await sh(host, 'iptables -S'), /2001:db8/, `${host} iptables has no IPv6 source`);
      // The fixtures are ifupdown hosts without systemd: the plan chose duet's pre-up hook.
      assert.deepEqual(report.hosts.find((h) => h.host === host)?.firewall, {
        boot: 'ifupdown',
        loadedBy: 'the ifupdown hook /etc/network/if-pre-up.d/duet-iptables',
        reason: 'no systemd, no iptables-persistent; ifupdown configures the network (/etc/network/interfaces): its pre-up hook loads them',
        ipv6: 'on',
      });
    }
  });

  it('changes nothing and restarts nothing on a second run', async () => {
    const before = await daemonPids();
    const started = Date.now();
    const { code, report, stderr } = await provisionJson('--yes');
    process.stderr.write(`# no-op provision: ${Date.now() - started} ms\n`);
    assert.equal(code, 0, stderr);
    assert.deepEqual(report.summary, { changed: 0, failed: 0, unchanged: 2 });
    assert.deepEqual(report.pairs.map((p) => p.actions), [[]]);
    assert.equal(await daemonPids(), before);
    assert.deepEqual(await vipHolders(), ['db1']);
  });

  it('converts a pair provisioned before TLS, with replication kept and no row lost', async () => {
    // What duet before TLS left on the hosts: no ssl_* options, no certificate files, replicas in
    // clear text, the replication accounts without REQUIRE X509 (servers keep running, as they did).
    for (const [host, peer] of [['db1', 'db2'], ['db2', 'db1']] as const) {
      await sh(host, `sed -i '/^# TLS (mysql.tls)/,/^ssl_key = /d' ${CNF} && rm -f /etc/mysql/duet-ca.pem /etc/mysql/duet-cert.pem /etc/mysql/duet-key.pem`);
      await sql(
        host,
        `SET sql_log_bin = 0; ALTER USER 'repl'@'${fx.address(peer)}' REQUIRE NONE; STOP SLAVE; ` +
          "CHANGE MASTER TO MASTER_SSL = 0, MASTER_SSL_CA = '', MASTER_SSL_CERT = '', MASTER_SSL_KEY = '', MASTER_SSL_VERIFY_SERVER_CERT = 0; START SLAVE",
      );
    }
    assert.match(await replicaStatus('db2'), /Master_SSL_Allowed: No/);
    await appSql('db1', "INSERT INTO t (src) VALUES ('pre-tls')");

    const dry = await duet('provision', [INVENTORY, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /create \/etc\/mysql\/duet-key\.pem \(new file, mode 0600 mysql:mysql\)/);
    assert.doesNotMatch(dry.stdout, /BEGIN PRIVATE KEY/);
    for (const secret of secrets()) assert.ok(!dry.stdout.includes(secret), 'a secret or a line of a key was printed');
    assert.match(dry.stdout, /point replication on db2 from db1 \(198\.18\.0\.11\) as repl \(its connection does not use TLS/);
    assert.match(dry.stdout, /set the password and grant of the replication account repl@198\.18\.0\.12 on db1 \(it does not require TLS with a client certificate/);

    const { code, report, stderr } = await provisionJson('--yes');
    assert.equal(code, 0, `${stderr}\n${JSON.stringify(report.pairs)}`);
    assert.deepEqual(report.tls, [], 'the CA and certificates of the first run are reused');
    await assertTls();
    const holders = await vipHolders();
    if (holders.join() !== 'db1') {
      const logs = await Promise.all(['db1', 'db2'].map(async (h) => `${h}:\n${await sh(h, 'grep -E "ROLE|duet|standby|takeover" /var/log/ha-log | tail -n 25')}`));
      assert.fail(`the floating IP is on ${holders.join(' and ') || 'no node'}, not db1; provision said:\n${stderr}\n${logs.join('\n')}`);
    }
    await appSql('db1', "INSERT INTO t (src) VALUES ('tls')");
    for (const host of ['db1', 'db2']) {
      let rows = '';
      for (let i = 0; i < 50 && rows !== '2\n'; i++) {
        rows = await sql(host, "SELECT COUNT(*) FROM app.t WHERE src IN ('pre-tls', 'tls')");
        if (rows !== '2\n') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(rows, '2\n', `${host} has both rows`);
    }
    const verify = await duet('verify', [INVENTORY, '--no-checksum']);
    assert.equal(verify.code, 0, verify.stdout);
    assert.match(verify.stdout, /^OK\s+tls\s+db1: replicates from db2 over TLS, its certificate verified/m);
    const again = await provisionJson('--yes');
    assert.deepEqual(again.report.summary, { changed: 0, failed: 0, unchanged: 2 });
  });

  it('issues a certificate again without a restart, and repairs a replica that does not verify', async () => {
    const before = await daemonPids();
    const oldCert = await sh('db2', 'cat /etc/mysql/duet-cert.pem');
    rmSync(join(fx.stateDir, 'tls', 'db2.pem'));
    // db1's replica stops verifying db2's certificate (by hand): verify says so, provision repairs it.
    await sql('db1', "STOP SLAVE; CHANGE MASTER TO MASTER_SSL_VERIFY_SERVER_CERT = 0; START SLAVE");
    const verify = await duet('verify', [INVENTORY, '--no-checksum']);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stdout, /db1.*replicates from db2 over TLS without verifying/);

    const dry = await duet('provision', [INVENTORY, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /tls: issue a key and certificate for db2 \(IP 198\.18\.0\.12\) signed by the cluster CA \(it has none\)/);
    assert.match(dry.stdout, /point replication on db1 from db2 .*verified\)/);
    const { code, report, stderr } = await provisionJson('--yes');
    assert.equal(code, 0, `${stderr}\n${JSON.stringify(report.pairs)}`);
    const db2 = report.hosts.find((h) => h.host === 'db2')!;
    assert.deepEqual(db2.services, ["mariadb --batch -e 'FLUSH SSL'"]);
    assert.equal(await daemonPids(), before, 'no daemon restarted');
    assert.notEqual(await sh('db2', 'cat /etc/mysql/duet-cert.pem'), oldCert);
    // db1's I/O thread verifies db2's new certificate; db2's presents its new one to db1.
    await assertTls();
    const again = await provisionJson('--yes');
    assert.deepEqual(again.report.summary, { changed: 0, failed: 0, unchanged: 2 });
  });

  it('repairs a flushed firewall, and its dry run shows the repair first', async () => {
    await sh('db1', 'iptables -F && iptables -P INPUT ACCEPT && ip6tables -F && ip6tables -P INPUT ACCEPT');
    assert.equal(await appCanConnect(fx.address('db1'), 3306), true, 'db1 is open to app1 after the flush');
    const seen = await duet('verify', [INVENTORY, '--no-checksum']);
    assert.equal(seen.code, 1, 'verify fails the flushed tables');
    assert.match(seen.stdout, /^FAIL firewall +db1: IPv6: the INPUT policy is ACCEPT, the rendered rules say DROP {2}\(hint: ip6tables-restore < \/etc\/ip6tables\.rules on db1/m);
    const dry = await duet('provision', [INVENTORY, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^db1: no file changes; then: firewall$/m);
    assert.match(dry.stdout, /^ {2}repair firewall: rules in force: the INPUT policy is ACCEPT, the rendered rules say DROP/m);
    assert.match(dry.stdout, /; IPv6 rules in force: the INPUT policy is ACCEPT, the rendered rules say DROP/m);
    assert.match(dry.stdout, /^ {2}firewall at boot: the ifupdown hook \/etc\/network\/if-pre-up\.d\/duet-iptables \(/m);
    assert.match(dry.stdout, /^db2: no file changes$/m);
    assert.match(dry.stdout, /^pair main: writer db1; nothing to change$/m);
    assert.equal(await appCanConnect(fx.address('db1'), 3306), true, '--dry-run changed nothing');

    const before = await daemonPids();
    const { code, report, stderr } = await provisionJson('--yes');
    assert.equal(code, 0, stderr);
    assert.equal(report.hosts.find((h) => h.host === 'db1')?.status, 'changed');
    assert.deepEqual(report.hosts.find((h) => h.host === 'db1')?.services, [
      'iptables-restore < /etc/iptables.rules && { [ ! -e /proc/net/if_inet6 ] || ip6tables-restore < /etc/ip6tables.rules; }',
    ]);
    assert.match(await sh('db1', 'ip6tables -S INPUT'), /^-P INPUT DROP$/m);
    assert.equal(await appCanConnect(fx.address('db1'), 3306), false, 'app1 -> db1:3306 closed again');
    assert.equal(await appCanConnect(FIXTURE_VIP, 3306), true, 'app1 -> VIP:3306');
    assert.match(await sh('db1', 'iptables -S INPUT'), /^-P INPUT DROP$/m);
    assert.equal(await daemonPids(), before, 'no daemon restarted');
    const again = await provisionJson('--yes');
    assert.deepEqual(again.report.summary, { changed: 0, failed: 0, unchanged: 2 });
  });

  it('restarts a stopped replica thread, planned first', async () => {
    await sql('db2', 'STOP SLAVE SQL_THREAD');
    const dry = await duet('provision', [INVENTORY, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^pair main: writer db1; 1 action\(s\):\n {2}start replication on db2 from db1 \(198\.18\.0\.11\) \(I\/O thread Yes, SQL thread No\)$/m);
    const { code, report, stderr } = await provisionJson('--yes');
    assert.equal(code, 0, stderr);
    assert.deepEqual(report.pairs[0]?.actions, ['start replication on db2 from db1 (198.18.0.11) (I/O thread Yes, SQL thread No)']);
    assert.match(await sh('db2', `mariadb -e 'SHOW SLAVE STATUS\\G'`), /Slave_SQL_Running: Yes/);
  });

  it("starts the writer's resources where Heartbeat holds them but never started them, planned first", async () => {
    // What a lost message in Heartbeat's FIFO leaves at start-up: Heartbeat on both nodes says it
    // holds its own resources, but the floating IP is on neither and the writer is read-only.
    await fx.exec('db1', ['/usr/share/heartbeat/ResourceManager', 'givegroup', 'duet-writer']);
    assert.deepEqual(await vipHolders(), []);
    assert.equal((await fx.exec('db1', ['cl_status', 'rscstatus'])).stdout.trim(), 'local');
    const dry = await duet('provision', [INVENTORY, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^pair main: writer db1; 1 action\(s\):\n {2}Heartbeat runs on both nodes but neither has the floating IP 198\.18\.0\.100: start the resources of db1 /m);
    const { code, report, stderr } = await provisionJson('--yes');
    assert.equal(code, 0, stderr);
    assert.equal(report.pairs[0]?.actions.length, 1);
    assert.deepEqual(await vipHolders(), ['db1']);
    assert.equal(await sql('db1', 'SELECT @@read_only'), '0\n');
    assert.equal(await sql('db2', 'SELECT @@read_only'), '1\n');
    const again = await duet('provision', [INVENTORY, '--dry-run']);
    assert.match(again.stdout, /^pair main: writer db1; nothing to change$/m);
  });

  it('rotates the replication password: both replicas keep running with the new one', async () => {
    const file = join(fx.stateDir, 'secrets', SECRET_FILES.replPassword);
    const old = readFileSync(file, 'utf8').trim();
    const rotated = `rot-${old.slice(4)}`.slice(0, 32);
    writeFileSync(file, `${rotated}\n`);
    const dry = await duet('provision', [INVENTORY, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    for (const secret of [old, rotated]) assert.ok(!dry.stdout.includes(secret), 'a password was printed in the plan');
    assert.match(dry.stdout, /set the password and grant of the replication account repl@198\.18\.0\.12 on db1 \(db2 cannot log in/);
    assert.match(dry.stdout, /point replication on db2 from db1 \(198\.18\.0\.11\) as repl \(the replication password of db1 is reset\)/);

    const { code, report, stderr } = await provisionJson('--yes');
    assert.equal(code, 0, `${stderr}\n${JSON.stringify(report.pairs)}`);
    for (const [host, peer] of [['db1', 'db2'], ['db2', 'db1']] as const) {
      // A fresh connection of each replica must log in with what it was given: the new password.
      await sql(host, 'STOP SLAVE; START SLAVE');
      let status = '';
      for (let i = 0; i < 50 && !/Slave_IO_Running: Yes/.test(status); i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await sh(host, `mariadb -e 'SHOW SLAVE STATUS\\G'`);
      }
      assert.match(status, /Slave_IO_Running: Yes/, `${host}: ${status}`);
      assert.match(status, /Slave_SQL_Running: Yes/, `${host}: ${status}`);
      const login = (password: string) => fx.ssh(host, `mariadb -h ${fx.address(peer)} -u repl --password="$(cat)" ${CLIENT_TLS} -e 'SELECT 1'`, { input: password });
      assert.equal((await login(rotated)).code, 0, `${host} -> ${peer} with the new password`);
      assert.notEqual((await login(old)).code, 0, `${host} -> ${peer} with the old password`);
    }
    const verify = await duet('verify', [INVENTORY, '--no-checksum']);
    assert.equal(verify.code, 0, verify.stdout);
    const again = await provisionJson('--yes');
    assert.deepEqual(again.report.pairs.map((p) => p.planned), [[]]);
  });

  it('rotates the Heartbeat key on both nodes without moving the floating IP', async () => {
    const file = join(fx.stateDir, 'secrets', SECRET_FILES.haAuthkey);
    const rotated = `rotated-${readFileSync(file, 'utf8').trim()}`;
    const heartbeatPids = async () => Promise.all(['db1', 'db2'].map(async (h) => (await fx.exec(h, ['pidof', 'heartbeat'])).stdout.trim()));
    const pidsBefore = await heartbeatPids();
    writeFileSync(file, `${rotated}\n`);
    // Watch the floating IP from before provision until well past deadtime (5 s) after it.
    const seen: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const holders = (await vipHolders()).join(',');
        if (holders !== 'db1') seen.push(holders || 'none');
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      const { code, report, stderr } = await provisionJson('--yes');
      assert.equal(code, 0, `${stderr}\n${JSON.stringify(report.pairs)}`);
      for (const host of ['db1', 'db2']) {
        const h = report.hosts.find((r) => r.host === host);
        assert.ok(h?.changes.some((c) => c.path === '/etc/ha.d/authkeys'), `${host}: authkeys changed`);
        assert.ok(h?.services.some((s) => /heartbeat reload/.test(s)), `${host}: ${h?.services.join(', ')}`);
        assert.ok((await sh(host, 'cat /etc/ha.d/authkeys')).includes(rotated), `${host} has the new key`);
      }
      await new Promise((r) => setTimeout(r, 8000));
    } finally {
      watching = false;
      await watcher;
    }
    assert.deepEqual(seen, [], 'the floating IP left db1');
    assert.deepEqual(await heartbeatPids(), pidsBefore, 'Heartbeat was reloaded, not restarted');
    const verify = await duet('verify', [INVENTORY, '--no-checksum']);
    assert.equal(verify.code, 0, verify.stdout);
    const again = await provisionJson('--yes');
    assert.deepEqual(again.report.summary, { changed: 0, failed: 0, unchanged: 2 });
  });

  it('shows a hand edit as a diff in --dry-run, then repairs it', async () => {
    await sh('db2', `echo 'max_connections = 77' >> ${CNF}`);
    const dry = await duet('provision', [INVENTORY, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    for (const secret of secrets()) assert.ok(!dry.stdout.includes(secret), 'a secret was printed in the plan');
    assert.match(dry.stdout, /db2: 1 file change\(s\); then: mysql/);
    assert.match(dry.stdout, /^\s+-max_connections = 77$/m);
    assert.match(await sh('db2', `tail -n 1 ${CNF}`), /max_connections = 77/, '--dry-run changed nothing');

    const { code, report, stderr } = await provisionJson('--yes');
    assert.equal(code, 0, stderr);
    assert.equal(report.hosts.find((h) => h.host === 'db2')?.status, 'changed');
    assert.doesNotMatch(await sh('db2', `cat ${CNF}`), /max_connections/);
    assert.equal(await sql('db2', 'SELECT @@max_connections, @@read_only'), '151\t1\n');
    assert.equal(await sql('db1', 'SELECT @@read_only'), '0\n', 'the writer stays the writer');
    assert.match(await sh('db2', `mariadb -e 'SHOW SLAVE STATUS\\G'`), /Slave_SQL_Running: Yes/);
  });

  it('puts the old my.cnf back and restarts MariaDB when the server rejects the new one', async () => {
    // Parses (so the pre-install check passes) but the server cannot start with it.
    const bad = inventoryVariant((t) => t.replace('innodb_log_file_size: 16M', 'innodb_log_file_size: 16M\n    innodb_log_group_home_dir: /nonexistent'));
    const before = await sh('db2', `cat ${CNF}`);
    const result = await duet('provision', [bad, '--yes']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /db2: failed: mysql failed with the new configuration; the previous files are back and it runs again/);
    assert.match(result.stdout, /server log:/);
    assert.match(result.stdout, /db1: not touched/, 'the writer is not touched after its peer failed');
    assert.equal(await sh('db2', `cat ${CNF}`), before);
    assert.equal(await sql('db2', 'SELECT @@read_only'), '1\n');
    assert.equal(await sql('db1', 'SELECT @@read_only'), '0\n');
    // The good inventory converges the pair again (the peer's I/O thread lost db2 for a moment).
    const { code, report, stderr } = await provisionJson('--yes');
    assert.equal(code, 0, stderr);
    assert.equal(report.summary.failed, 0);
    for (const host of ['db1', 'db2']) assert.match(await sh(host, `mariadb -e 'SHOW SLAVE STATUS\\G'`), /Slave_IO_Running: Yes/);
  });
});

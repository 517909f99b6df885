// The fixture hosts behave like separate VMs where the product needs them to: checked through the
// real ssh client with strict host key checking, as duet itself will connect.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_BROADCAST, SECRET_FILES } from '../../src/fixtures/index.ts';
import { useFixtures } from './helpers/fixtures.ts';

const fx = useFixtures();
const HOSTS = ['db1', 'db2', 'app1'];
const DB_HOSTS = ['db1', 'db2'];

async function sshOk(host: string, command: string): Promise<string> {
  const result = await fx.ssh(host, command);
  assert.equal(result.code, 0, `${host}: \`${command}\` exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

describe('fixture hosts', () => {
  it('answer ssh with their own host name and a private /etc', async () => {
    for (const host of HOSTS) {
      assert.equal(await sshOk(host, 'uname -n; cat /etc/hostname'), `${host}\n${host}\n`);
    }
    // rename(2) in /etc works (sed -i), and what one host writes no other host sees.
    await sshOk('db1', 'echo db1 > /etc/duet-probe && sed -i s/db1/changed/ /etc/duet-probe');
    assert.equal(await sshOk('db1', 'cat /etc/duet-probe'), 'changed\n');
    assert.equal((await fx.ssh('db2', 'test -e /etc/duet-probe')).code, 1);
    assert.equal(existsSync('/etc/duet-probe'), false);
  });

  it('list every fixture host in /etc/hosts', async () => {
    const hosts = await sshOk('app1', 'getent hosts db1 db2 app1');
    for (const host of HOSTS) assert.match(hosts, new RegExp(`^${fx.address(host).replace(/\./g, '\\.')}\\s+${host}$`, 'm'));
  });

  it('run a bare MariaDB on db hosts (no replication settings) and none on app hosts', async () => {
    for (const host of DB_HOSTS) {
      assert.equal(await sshOk(host, `mariadb -Nse 'select @@hostname, @@log_bin, @@innodb_buffer_pool_size'`), `${host}\t0\t67108864\n`);
    }
    assert.match(await sshOk('app1', 'command -v mariadb'), /mariadb/);
    assert.equal((await fx.ssh('app1', 'pidof mariadbd')).code, 1);
  });

  it('have Heartbeat installed but neither configured nor running', async () => {
    for (const host of DB_HOSTS) {
      assert.equal(await sshOk(host, 'test -x /etc/init.d/heartbeat && test ! -e /etc/ha.d/ha.cf && ! pidof heartbeat && echo bare'), 'bare\n');
    }
  });

  it('keep iptables rules in the host that added them', async () => {
    const rule = `INPUT -s ${fx.address('db2')}/32 -p tcp -m tcp --dport 22 -j DROP`;
    await sshOk('db1', `iptables -A ${rule}`);
    assert.ok((await sshOk('db1', 'iptables -S INPUT')).includes(`-A ${rule}`));
    assert.ok(!(await sshOk('db2', 'iptables -S INPUT')).includes(`--dport 22 -j DROP`));
    // db2 can no longer reach db1:22, while this machine (198.18.0.1) still can.
    const probe = await fx.exec('db2', ['timeout', '2', 'bash', '-c', `</dev/tcp/${fx.address('db1')}/22`]);
    assert.notEqual(probe.code, 0);
    assert.equal(await sshOk('db1', `iptables -D ${rule} && uname -n`), 'db1\n');
  });

  it('deliver a UDP broadcast on the bridge from db1 to db2 (Heartbeat bcast)', async () => {
    assert.match(await sshOk('db1', 'ip -4 -o addr show dev eth0'), new RegExp(`brd ${FIXTURE_BROADCAST.replace(/\./g, '\\.')} `));
    // perl-base (essential on Debian) has IO::Socket::INET; /usr is shared, so it is in every host.
    const listener = fx.ssh(
      'db2',
      `timeout 10 perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 6694, Proto => "udp") or die "bind: $!"; $s->recv($m, 100); print $s->peerhost, " $m"'`,
    );
    let received: string | undefined;
    void listener.then((result) => (received = result.stdout));
    const send = `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(PeerAddr => "${FIXTURE_BROADCAST}", PeerPort => 6694, Proto => "udp", Broadcast => 1) or die "socket: $!"; $s->send("duet-bcast") or die "send: $!"'`;
    // The listener may not be bound yet when the first datagram goes out: resend, a bounded number of times.
    for (let attempt = 0; attempt < 20 && received === undefined; attempt++) {
      await sshOk('db1', send);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal((await listener).stdout, `${fx.address('db1')} duet-bcast`);
  });

  it('refuse ssh when the host key is not in known_hosts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-known-hosts-'));
    try {
      const emptyKnownHosts = join(dir, 'known_hosts');
      writeFileSync(emptyKnownHosts, '');
      const result = await fx.ssh('db1', 'true', { sshOptions: ['-o', `UserKnownHostsFile=${emptyKnownHosts}`] });
      assert.equal(result.code, 255);
      assert.match(result.stderr, /Host key verification failed/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('run commands inside a host without ssh, with stdin', async () => {
    const result = await fx.exec('app1', ['sh', '-c', 'uname -n; cat'], { input: 'from stdin' });
    assert.deepEqual(result, { code: 0, stdout: 'app1\nfrom stdin', stderr: '' });
  });

  it('write the secrets and client files inventory/fixtures.yml refers to', () => {
    for (const file of Object.values(SECRET_FILES)) {
      const path = join(fx.stateDir, 'secrets', file);
      assert.equal(statSync(path).mode & 0o777, 0o600, path);
      assert.match(readFileSync(path, 'utf8'), /^[0-9a-f]{32}$/, `${path} is random hex without a newline`);
    }
    assert.notEqual(readFileSync(join(fx.stateDir, 'secrets', SECRET_FILES.replPassword), 'utf8'), readFileSync(join(fx.stateDir, 'secrets', SECRET_FILES.haAuthkey), 'utf8'));
    assert.ok(existsSync(join(fx.stateDir, 'id_ed25519')));
    assert.match(readFileSync(join(fx.stateDir, 'known_hosts'), 'utf8'), /^198\.18\.0\.11,db1 ssh-ed25519 AAAA/m);
  });
});

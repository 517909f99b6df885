import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FixtureError } from '../../src/errors.ts';
import {
  enableLogErrorInMysqldSafeCnf,
  isBenchmarkAddress,
  MAX_IFNAME_LENGTH,
  nsenterArgv,
  planHosts,
  renderEtcHosts,
  renderKnownHostsLines,
  renderSshConfig,
} from '../../src/fixtures/plan.ts';

describe('planHosts', () => {
  it('plans db1, db2 and app1 by default', () => {
    assert.deepEqual(planHosts(), [
      { name: 'db1', address: '198.18.0.11', netns: 'duet-db1', veth: 'dv-db1', mariadbServer: true },
      { name: 'db2', address: '198.18.0.12', netns: 'duet-db2', veth: 'dv-db2', mariadbServer: true },
      { name: 'app1', address: '198.18.0.13', netns: 'duet-app1', veth: 'dv-app1', mariadbServer: false },
    ]);
  });

  it('gives hosts without an octet the next free address from .11, skipping taken ones', () => {
    const plan = planHosts('db1,db2:11,lb1,db3:13');
    assert.deepEqual(plan.map((h) => [h.name, h.address]), [
      ['db1', '198.18.0.12'],
      ['db2', '198.18.0.11'],
      ['lb1', '198.18.0.14'],
      ['db3', '198.18.0.13'],
    ]);
  });

  it('gives app and lb hosts no MariaDB server', () => {
    assert.deepEqual(planHosts('app1,lb1,db9,apple').map((h) => h.mariadbServer), [false, false, true, false]);
  });

  it('keeps every veth name within the kernel limit and every address in 198.18.0.0/15', () => {
    const longest = 'a'.repeat(MAX_IFNAME_LENGTH - 'dv-'.length);
    for (const host of planHosts(`db1,${longest},x:254,y:2`)) {
      assert.ok(host.veth.length <= MAX_IFNAME_LENGTH, host.veth);
      assert.ok(isBenchmarkAddress(host.address), host.address);
    }
  });

  it('rejects bad names, duplicates and reserved or out-of-range octets', () => {
    for (const bad of [
      'a'.repeat(MAX_IFNAME_LENGTH - 'dv-'.length + 1),
      'DB1',
      '1db',
      'db1,db1',
      'db1:11,db2:11',
      'db1:1',
      'db1:100',
      'db1:0',
      'db1:255',
      'db1:1x',
      'db1:11:2',
      '',
    ]) {
      assert.throws(() => planHosts(bad), FixtureError, bad);
    }
  });
});

describe('isBenchmarkAddress', () => {
  it('accepts 198.18.0.0/15 only', () => {
    assert.ok(isBenchmarkAddress('198.18.0.11'));
    assert.ok(isBenchmarkAddress('198.19.255.1'));
    for (const other of ['198.20.0.1', '10.0.0.1', '127.0.0.1', '198.18.0.256', '198.18.0']) {
      assert.equal(isBenchmarkAddress(other), false, other);
    }
  });
});

describe('rendered files', () => {
  const [db1] = planHosts('db1');

  it('lists every host and the floating IP in /etc/hosts', () => {
    assert.equal(
      renderEtcHosts(planHosts('db1,db2')),
      '127.0.0.1\tlocalhost\n198.18.0.11\tdb1\n198.18.0.12\tdb2\n198.18.0.100\tvip\n198.18.0.200\tlbvip\n',
    );
  });

  it('writes known_hosts lines as "address,name type key", dropping the key comment', () => {
    assert.ok(db1);
    assert.equal(
      renderKnownHostsLines(db1, ['ssh-ed25519 AAAAC3 root@build\n', 'ssh-rsa AAAAB3\n']),
      '198.18.0.11,db1 ssh-ed25519 AAAAC3\n198.18.0.11,db1 ssh-rsa AAAAB3\n',
    );
  });

  it('makes the ssh client verify host keys strictly against the fixture known_hosts', () => {
    const config = renderSshConfig(planHosts('db1'), '/state');
    assert.match(config, /^Host db1\n {2}HostName 198\.18\.0\.11\n/);
    assert.match(config, /StrictHostKeyChecking yes/);
    assert.match(config, /UserKnownHostsFile \/state\/known_hosts/);
    assert.match(config, /IdentityFile \/state\/id_ed25519/);
  });

  it('comments out skip_log_error and syslog in 50-mysqld_safe.cnf and nothing else', () => {
    const stock = '[mysqld_safe]\nnice = 0\nskip_log_error\nsyslog\n';
    assert.equal(
      enableLogErrorInMysqldSafeCnf(stock),
      '[mysqld_safe]\nnice = 0\n# duet fixture: skip_log_error\n# duet fixture: syslog\n',
    );
  });

  it('enters all four namespaces of the anchor with a clean environment', () => {
    const argv = nsenterArgv(42, ['uname', '-n']);
    assert.deepEqual(argv.slice(0, 9), ['nsenter', '-t', '42', '-n', '-u', '-m', '-p', '--wd=/', '--']);
    assert.equal(argv[9], 'env');
    assert.equal(argv[10], '-i');
    assert.deepEqual(argv.slice(-2), ['uname', '-n']);
  });
});

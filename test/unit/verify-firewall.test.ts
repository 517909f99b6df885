import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFirewall, compareFirewall, normalizeRule, type FirewallComparison, type FirewallState } from '../../src/ops/verify-firewall.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

// What the fixture db1 printed after provision (iptables 1.8.9, nft backend).
const FIXTURE_RULES = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
# SSH from the admin networks (firewall.ssh_from).
-A INPUT -s 198.18.0.0/24 -p tcp -m tcp --dport 22 -j ACCEPT
# Replication from the peer (db2).
-A INPUT -s 198.18.0.12/32 -p tcp -m tcp --dport 3306 -j ACCEPT
# Applications (firewall.mysql_from) reach MySQL through the floating IP only.
-A INPUT -s 198.18.0.13/32 -d 198.18.0.100/32 -p tcp -m tcp --dport 3306 -j ACCEPT
# Heartbeat from the peer only.
-A INPUT -s 198.18.0.12/32 -p udp -m udp --dport 694 -j ACCEPT
COMMIT
`;
const FIXTURE_LIVE = `-P INPUT DROP
-P FORWARD DROP
-P OUTPUT ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -s 198.18.0.0/24 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -s 198.18.0.12/32 -p tcp -m tcp --dport 3306 -j ACCEPT
-A INPUT -s 198.18.0.13/32 -d 198.18.0.100/32 -p tcp -m tcp --dport 3306 -j ACCEPT
-A INPUT -s 198.18.0.12/32 -p udp -m udp --dport 694 -j ACCEPT
`;

/** A firewall whose IPv6 rules are in force and which a boot (the ifupdown hook) loads, with these IPv4 differences. */
function stateWith(v4: FirewallComparison): FirewallState {
  return {
    v4,
    v6: { state: 'on', comparison: { policies: [], missing: [], extra: [] } },
    boot: { choice: { boot: 'ifupdown', reason: 'ifupdown', leftovers: [] }, enabled: true, differing: [] },
    paths: { v4: '/etc/iptables.rules', v6: '/etc/ip6tables.rules' },
  };
}

test('normalizeRule writes a rule the way iptables -S prints it', () => {
  assert.equal(normalizeRule('-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT'), '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT');
  assert.equal(normalizeRule('-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'), '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT');
  assert.equal(normalizeRule('-A INPUT -s 192.0.2.7 -p tcp -m tcp --dport 22 -j ACCEPT'), '-A INPUT -s 192.0.2.7/32 -p tcp -m tcp --dport 22 -j ACCEPT');
  assert.equal(normalizeRule('-A INPUT -s 0.0.0.0/0 -p tcp -m tcp --dport 22 -j ACCEPT'), '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
});

test('the live rules of a provisioned fixture node are the rendered ones', () => {
  assert.deepEqual(compareFirewall(FIXTURE_RULES, FIXTURE_LIVE), { policies: [], missing: [], extra: [] });
});

test('a deleted peer rule, an ACCEPT policy and a foreign rule are each named', () => {
  const live = FIXTURE_LIVE.replace('-P INPUT DROP', '-P INPUT ACCEPT')
    .replace('-A INPUT -s 198.18.0.12/32 -p tcp -m tcp --dport 3306 -j ACCEPT\n', '')
    .concat('-A INPUT -p tcp -m tcp --dport 3306 -j ACCEPT\n-N f2b-sshd\n');
  const comparison = compareFirewall(FIXTURE_RULES, live);
  assert.deepEqual(comparison.policies, [{ chain: 'INPUT', live: 'ACCEPT', rendered: 'DROP' }]);
  assert.deepEqual(comparison.missing, [{ rule: '-A INPUT -s 198.18.0.12/32 -p tcp -m tcp --dport 3306 -j ACCEPT', purpose: 'Replication from the peer (db2).' }]);
  assert.deepEqual(comparison.extra, ['-A INPUT -p tcp -m tcp --dport 3306 -j ACCEPT', '-N f2b-sshd']);

  const inv = sampleInventory();
  const pair = inv.pairs[0]!;
  const [db1, db2] = pair.nodes;
  const findings = checkFirewall(pair, db1, db2, stateWith(comparison), { kind: 'no answer', reason: 'no TCP answer within 2000 ms (packets dropped?)' });
  assert.deepEqual(
    findings.map((f) => [f.status, f.message]),
    [
      ['fail', 'the INPUT policy is ACCEPT, the rendered rules say DROP'],
      ['fail', 'rule not loaded: -A INPUT -s 198.18.0.12/32 -p tcp -m tcp --dport 3306 -j ACCEPT (Replication from the peer (db2))'],
      ['fail', 'rule not in the inventory: -A INPUT -p tcp -m tcp --dport 3306 -j ACCEPT (it may let in what the inventory does not allow)'],
      ['warn', 'rule not in the inventory: -N f2b-sshd'],
      ['fail', 'db-02 cannot open a connection to db-01:3306 (192.0.2.11): no TCP answer within 2000 ms (packets dropped?)'],
    ],
  );
  assert.ok(findings.every((f) => f.check === 'firewall' && f.host === 'db-01'));
});

test('the peer refused by MySQL itself (1130) is a missing account, not a firewall problem', () => {
  const inv = sampleInventory();
  const pair = inv.pairs[0]!;
  const [db1, db2] = pair.nodes;
  const [f] = checkFirewall(pair, db1, db2, stateWith({ policies: [], missing: [], extra: [] }), { kind: 'error', code: 1130, message: "Host 'db-02' is not allowed to connect to this MariaDB server" });
  assert.match(f?.message ?? '', /db-01:3306 refuses db-02: error 1130/);
  assert.match(f?.hint ?? '', /no account for db-02's address 192\.0\.2\.12/);
  const greeting = { kind: 'greeting' as const, serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1-log', connectionId: 13 };
  assert.deepEqual(checkFirewall(pair, db1, db2, undefined, greeting).map((x) => [x.status, x.message]), [['ok', 'not managed by duet (firewall.manage: false); db-02 reaches db-01:3306']]);
});

test('firewallReloadReasons: what verify fails makes provision reload; another tool\'s chains alone do not', async () => {
  const { firewallReloadReasons } = await import('../../src/ops/verify-firewall.ts');
  assert.deepEqual(firewallReloadReasons(FIXTURE_RULES, FIXTURE_LIVE), []);
  assert.deepEqual(firewallReloadReasons(FIXTURE_RULES, `${FIXTURE_LIVE}-N f2b-sshd\n-A f2b-sshd -j RETURN\n`), []);
  const flushed = firewallReloadReasons(FIXTURE_RULES, '-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n');
  assert.equal(flushed[0], 'the INPUT policy is ACCEPT, the rendered rules say DROP');
  assert.match(flushed.at(-1) ?? '', /^and \d+ more difference\(s\)$/);
  assert.deepEqual(firewallReloadReasons(FIXTURE_RULES, `${FIXTURE_LIVE}-A INPUT -p tcp -m tcp --dport 3306 -j ACCEPT\n`), [
    'rule not in the inventory: -A INPUT -p tcp -m tcp --dport 3306 -j ACCEPT (it may let in what the inventory does not allow)',
  ]);
});

// The firewall's IPv6 rules and the way a boot loads the rules: addresses, rendering, the choice of
// way from a host's facts, the commands, and what verify says. Pure; the fixtures prove the
// ifupdown way for real (test/e2e), these the other ways and the hosts without IPv6.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalCidr, cidrFamily, formatIpv6, ipv6ToBigInt } from '../../src/inventory/net.ts';
import { checkFirewall, checkHostFirewall, compareFirewall, firewallState } from '../../src/ops/verify-firewall.ts';
import { checkCommand, enableFirewallBootCommand, loadFirewallCommand } from '../../src/ops/services.ts';
import { factsScript, parseFacts, type HostFacts } from '../../src/plan/facts.ts';
import { factsFileSections } from './helpers/facts-output.ts';
import { chooseFirewallBoot, firewallBootEnabled } from '../../src/plan/firewall-boot.ts';
import { desiredFiles, loadBalancerFiles, type DesiredFile } from '../../src/render/desired.ts';
import { FIREWALL_PATHS } from '../../src/render/firewall-boot.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';
import { HostStateError } from '../../src/errors.ts';
import { planNode } from '../../src/ops/provision.ts';
import type { SshConnection } from '../../src/transport/ssh.ts';

describe('IPv6 addresses', () => {
  test('canonicalCidr writes a source the way iptables -S and ip6tables -S print it', () => {
    assert.equal(canonicalCidr('2001:DB8:0:0::5/64'), '2001:db8::/64');
    assert.equal(canonicalCidr('2001:db8::1'), '2001:db8::1/128');
    assert.equal(canonicalCidr('1:0:0:1:0:0:0:1'), '1:0:0:1::1/128'); // the longer run is compressed
    assert.equal(canonicalCidr('1:0:0:0:1:0:0:0'), '1::1:0:0:0/128'); // the first of equal runs
    assert.equal(canonicalCidr('1:2:3:4:5:6:7:0'), '1:2:3:4:5:6:7:0/128'); // a single zero group stays
    assert.equal(canonicalCidr('::ffff:c000:201'), '::ffff:192.0.2.1/128');
    assert.equal(canonicalCidr('::/0'), '::/0');
    assert.equal(canonicalCidr('192.0.2.5/24'), '192.0.2.0/24');
    assert.equal(canonicalCidr('192.0.2.5'), '192.0.2.5/32');
  });

  test('malformed addresses are refused', () => {
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '2001:db8::/129', 'fe80::1%eth0', '::ffff:1.2.3.4', 'g::1', '2001:db8::/', '']) {
      assert.equal(cidrFamily(bad), undefined, bad);
    }
    assert.equal(cidrFamily('2001:db8::/32'), 6);
    assert.equal(cidrFamily('10.0.0.0/8'), 4);
    assert.equal(formatIpv6(ipv6ToBigInt('0:0:0:0:0:0:0:1')!), '::1');
  });
});

function sshFrom(...sources: string[]) {
  const inv = sampleInventory();
  inv.firewall.sshFrom = sources;
  return inv;
}

const byCheck = (files: DesiredFile[], check: DesiredFile['check']) => files.find((f) => f.check === check)!;

describe('rendered IPv6 rules', () => {
  test('default deny, loopback, established, the ICMPv6 IPv6 needs, and SSH from the IPv6 sources only', () => {
    const inv = sshFrom('192.0.2.0/24', '2001:db8:1::/48');
    const pair = inv.pairs[0]!;
    const files = desiredFiles(inv, pair, pair.nodes[0]);
    const v4 = byCheck(files, 'iptables-restore').content;
    const v6 = byCheck(files, 'ip6tables-restore').content;
    assert.match(v6, /^:INPUT DROP \[0:0\]\n:FORWARD DROP \[0:0\]$/m);
    assert.match(v6, /^-A INPUT -i lo -j ACCEPT$/m);
    assert.match(v6, /^-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT$/m);
    for (const type of [133, 134, 135, 136]) assert.match(v6, new RegExp(`^-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type ${type} -m hl --hl-eq 255 -j ACCEPT$`, 'm'));
    assert.match(v6, /^-A INPUT -s 2001:db8:1::\/48 -p tcp -m tcp --dport 22 -j ACCEPT$/m);
    assert.doesNotMatch(v6, /192\.0\.2/);
    assert.doesNotMatch(v4, /2001:db8/);
    assert.match(v4, /^-A INPUT -s 192\.0\.2\.0\/24 -p tcp -m tcp --dport 22 -j ACCEPT$/m);
    // The pair's own traffic is IPv4: no MySQL or Heartbeat port in the IPv6 rules.
    assert.doesNotMatch(v6, /--dport (3306|694)\b/);
  });

  test('with IPv4 sources only, the IPv6 rules let in no SSH at all', () => {
    const inv = sshFrom('192.0.2.0/24');
    const v6 = byCheck(desiredFiles(inv, inv.pairs[0]!, inv.pairs[0]!.nodes[1]), 'ip6tables-restore').content;
    assert.doesNotMatch(v6, /--dport 22/);
  });

  test('a load balancer gets the same IPv6 rules', () => {
    const inv = sshFrom('2001:db8:1::/48', '192.0.2.0/24');
    const pair = inv.pairs.find((p) => p.loadBalancers)!;
    const lb = byCheck(loadBalancerFiles(inv, pair, pair.loadBalancers!.nodes[0]), 'ip6tables-restore').content;
    assert.match(lb, /^-A INPUT -s 2001:db8:1::\/48 -p tcp -m tcp --dport 22 -j ACCEPT$/m);
    assert.match(lb, /^:INPUT DROP/m);
  });

  test('each way of loading the rules at boot has its files', () => {
    const inv = sampleInventory();
    const [pair, node] = [inv.pairs[0]!, inv.pairs[0]!.nodes[0]];
    const firewall = (boot: 'netfilter-persistent' | 'systemd' | 'ifupdown') =>
      desiredFiles(inv, pair, node, { firewallBoot: boot })
        .filter((f) => f.service === 'firewall')
        .map((f) => `${f.path} ${f.mode.toString(8)}`);
    assert.deepEqual(firewall('netfilter-persistent'), ['/etc/iptables/rules.v4 640', '/etc/iptables/rules.v6 640']);
    assert.deepEqual(firewall('systemd'), ['/etc/iptables.rules 640', '/etc/ip6tables.rules 640', '/etc/systemd/system/duet-firewall.service 644']);
    assert.deepEqual(firewall('ifupdown'), ['/etc/iptables.rules 640', '/etc/ip6tables.rules 640', '/etc/network/if-pre-up.d/duet-iptables 755']);
    const unit = desiredFiles(inv, pair, node, { firewallBoot: 'systemd' }).find((f) => f.path.endsWith('.service'))!.content;
    assert.match(unit, /^Before=network-pre\.target shutdown\.target$/m);
    assert.match(unit, /^ExecStart=\/usr\/sbin\/iptables-restore \/etc\/iptables\.rules$/m);
    assert.match(unit, /^ExecStart=\/bin\/sh -c '\[ ! -e \/proc\/net\/if_inet6 \] \|\| exec \/usr\/sbin\/ip6tables-restore \/etc\/ip6tables\.rules'$/m);
    assert.match(unit, /^WantedBy=multi-user\.target$/m);
    // Every path any way writes is read by the facts before the way is chosen.
    for (const boot of ['netfilter-persistent', 'systemd', 'ifupdown'] as const) {
      for (const f of desiredFiles(inv, pair, node, { firewallBoot: boot }).filter((x) => x.service === 'firewall')) assert.ok(FIREWALL_PATHS.includes(f.path), f.path);
    }
  });
});

function facts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    hostname: 'db-01',
    initSystem: 'sysvinit',
    packages: new Set(),
    addresses: [],
    running: { mysql: true, heartbeat: true, haproxy: false, agent: false },
    files: new Map(),
    firewallBoot: { ifupdown: false, netfilterPersistentEnabled: false, unitEnabled: false },
    ...overrides,
  };
}

describe('the way a boot loads the rules', () => {
  test('netfilter-persistent where iptables-persistent is installed, else duet\'s systemd unit, else the ifupdown hook, else none', () => {
    const boots = { ifupdown: true, netfilterPersistentEnabled: false, unitEnabled: false };
    assert.equal(chooseFirewallBoot(facts({ packages: new Set(['iptables-persistent']), initSystem: 'systemd', firewallBoot: boots }))?.boot, 'netfilter-persistent');
    assert.equal(chooseFirewallBoot(facts({ packages: new Set(['iptables-persistent']) }))?.boot, 'netfilter-persistent');
    assert.equal(chooseFirewallBoot(facts({ initSystem: 'systemd', firewallBoot: boots }))?.boot, 'systemd');
    assert.equal(chooseFirewallBoot(facts({ firewallBoot: boots }))?.boot, 'ifupdown');
    assert.equal(chooseFirewallBoot(facts()), undefined);
    assert.match(chooseFirewallBoot(facts({ initSystem: 'systemd' }))!.reason, /duet's unit duet-firewall\.service loads them/);
    // An older way's file of duet's found on the host is a leftover to remove.
    const hook = '/etc/network/if-pre-up.d/duet-iptables';
    const withHook = facts({ initSystem: 'systemd', files: new Map([[hook, { path: hook, exists: true }], ['/etc/systemd/system/duet-firewall.service', { path: '', exists: false }]]) });
    assert.deepEqual(chooseFirewallBoot(withHook)?.leftovers, [hook]);
    assert.deepEqual(chooseFirewallBoot(facts({ firewallBoot: boots, files: withHook.files }))?.leftovers, []);
  });

  test('enabled: the service or unit for the first two, the hook\'s own file for ifupdown', () => {
    const on = facts({ firewallBoot: { ifupdown: true, netfilterPersistentEnabled: true, unitEnabled: false } });
    assert.equal(firewallBootEnabled('netfilter-persistent', on), true);
    assert.equal(firewallBootEnabled('systemd', on), false);
    assert.equal(firewallBootEnabled('ifupdown', facts()), true);
  });

  test('the firewall action loads IPv4, then IPv6 while the kernel has it, then switches the way on', () => {
    assert.equal(loadFirewallCommand('ifupdown', 'sysvinit'), 'iptables-restore < /etc/iptables.rules && { [ ! -e /proc/net/if_inet6 ] || ip6tables-restore < /etc/ip6tables.rules; }');
    assert.equal(
      loadFirewallCommand('netfilter-persistent', 'systemd'),
      'iptables-restore < /etc/iptables/rules.v4 && { [ ! -e /proc/net/if_inet6 ] || ip6tables-restore < /etc/iptables/rules.v6; } && systemctl enable -q netfilter-persistent.service',
    );
    assert.equal(enableFirewallBootCommand('systemd', 'systemd'), 'systemctl daemon-reload && systemctl enable -q duet-firewall.service');
    assert.match(enableFirewallBootCommand('netfilter-persistent', 'sysvinit')!, /^update-rc\.d netfilter-persistent defaults/);
    // duet's boot files of another way are removed (a unit disabled first).
    assert.equal(
      loadFirewallCommand('netfilter-persistent', 'systemd', ['/etc/network/if-pre-up.d/duet-iptables', '/etc/systemd/system/duet-firewall.service']),
      'iptables-restore < /etc/iptables/rules.v4 && { [ ! -e /proc/net/if_inet6 ] || ip6tables-restore < /etc/iptables/rules.v6; } && systemctl enable -q netfilter-persistent.service' +
        ' && rm -f /etc/network/if-pre-up.d/duet-iptables && { systemctl disable -q duet-firewall.service 2>/dev/null || true; } && rm -f /etc/systemd/system/duet-firewall.service && systemctl daemon-reload',
    );
    assert.equal(checkCommand('ip6tables-restore', '/etc/.ip6tables.rules.duet-new', 'mariadb'), '[ ! -e /proc/net/if_inet6 ] || ip6tables-restore --test < /etc/.ip6tables.rules.duet-new');
  });
});

describe('facts', () => {
  test('the firewall sections: IPv6 on, off or broken, and what can load the rules at boot', () => {
    const script = factsScript([], ['iptables-persistent'], { firewall: true });
    assert.match(script, /ip6tables -S/);
    assert.match(script, /systemctl is-enabled -q duet-firewall\.service/);
    const head = '@@duet hostname\ndb-01\n@@duet init\nsystemd\n@@duet packages\niptables-persistent\n';
    const on = parseFacts(`${head}@@duet ip6tables\non\n-P INPUT DROP\n-P FORWARD DROP\n@@duet firewall-boot\nnetfilter-persistent\n@@duet end\n`);
    assert.deepEqual(on.ipv6, { state: 'on', rules: '-P INPUT DROP\n-P FORWARD DROP' });
    assert.deepEqual(on.firewallBoot, { ifupdown: false, netfilterPersistentEnabled: true, unitEnabled: false });
    assert.deepEqual(parseFacts(`${head}@@duet ip6tables\noff\n@@duet firewall-boot\nifupdown\nunit\n@@duet end\n`).ipv6, { state: 'off' });
    const broken = parseFacts(`${head}@@duet ip6tables\nerror\nip6tables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument\n@@duet end\n`);
    assert.deepEqual(broken.ipv6, { state: 'error', message: 'ip6tables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument' });
  });
});

describe('verify: the IPv6 rules and the boot', () => {
  const inv = sampleInventory();
  const pair = inv.pairs[0]!;
  const [db1, db2] = pair.nodes;
  const desired = desiredFiles(inv, pair, db1);
  const v4 = byCheck(desired, 'iptables-restore');
  const v6 = byCheck(desired, 'ip6tables-restore');
  const hook = desired.find((f) => f.path === '/etc/network/if-pre-up.d/duet-iptables')!;
  /** What `iptables -S` prints for a rules file loaded as it is. */
  const loaded = (rules: string) =>
    rules
      .split('\n')
      .filter((l) => l.startsWith(':') || l.startsWith('-A '))
      .map((l) => (l.startsWith(':') ? `-P ${l.slice(1).split(' ').slice(0, 2).join(' ')}` : l))
      .join('\n');
  const asOnHost = (f: DesiredFile) => [f.path, { path: f.path, exists: true, mode: f.mode, owner: 'root', group: 'root', content: f.content }] as const;
  const hostFacts = (overrides: Partial<HostFacts> = {}) =>
    facts({
      firewallRules: loaded(v4.content),
      ipv6: { state: 'on', rules: loaded(v6.content) },
      firewallBoot: { ifupdown: true, netfilterPersistentEnabled: false, unitEnabled: false },
      files: new Map([asOnHost(v4), asOnHost(v6), asOnHost(hook)]),
      ...overrides,
    });
  const greeting = { kind: 'greeting' as const, serverVersion: '10.11', connectionId: 1 };
  const check = (f: HostFacts, files = desired) => checkFirewall(pair, db1, db2, firewallState(files, f, chooseFirewallBoot(f)), greeting).map((x) => [x.status, x.message, x.hint]);

  test('loaded as rendered, hook in place: one ok finding naming both tables and the hook', () => {
    assert.equal(compareFirewall(v6.content, loaded(v6.content)).missing.length, 0);
    assert.deepEqual(check(hostFacts()), [
      ['ok', 'the rules in force are the rendered ones (IPv4 and IPv6), and a boot loads them (the ifupdown hook /etc/network/if-pre-up.d/duet-iptables); db-02 reaches db-01:3306', undefined],
    ]);
  });

  test('a load balancer: the same findings, without the peer probe', () => {
    const lbPair = inv.pairs.find((p) => p.loadBalancers)!;
    const lb = lbPair.loadBalancers!.nodes[0];
    const files = loadBalancerFiles(inv, lbPair, lb);
    const f = facts({
      firewallRules: loaded(byCheck(files, 'iptables-restore').content),
      ipv6: { state: 'on', rules: '-P INPUT ACCEPT' },
      firewallBoot: { ifupdown: true, netfilterPersistentEnabled: false, unitEnabled: false },
      files: new Map(files.filter((x) => x.service === 'firewall').map(asOnHost)),
    });
    const findings = checkHostFirewall(lbPair, lb, firewallState(files, f, chooseFirewallBoot(f)));
    assert.ok(findings.every((x) => x.check === 'firewall' && x.host === lb.name));
    assert.ok(findings.some((x) => x.status === 'fail' && x.message === 'IPv6: the INPUT policy is ACCEPT, the rendered rules say DROP'));
    f.ipv6 = { state: 'on', rules: loaded(byCheck(files, 'ip6tables-restore').content) };
    assert.deepEqual(
      checkHostFirewall(lbPair, lb, firewallState(files, f, chooseFirewallBoot(f))).map((x) => x.status),
      ['ok'],
    );
  });

  test('a flushed ip6tables fails, with ip6tables-restore in the hint', () => {
    const [f] = check(hostFacts({ ipv6: { state: 'on', rules: '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT' } }));
    assert.equal(f?.[0], 'fail');
    assert.equal(f?.[1], 'IPv6: the INPUT policy is ACCEPT, the rendered rules say DROP');
    assert.match(String(f?.[2]), /^ip6tables-restore < \/etc\/ip6tables\.rules on db-01/);
  });

  test('a kernel without IPv6 is a note in the ok finding; one whose ip6tables fails is a failure', () => {
    assert.match(String(check(hostFacts({ ipv6: { state: 'off' } }))[0]?.[1]), /^the rules in force are the rendered ones \(IPv4; IPv6 is off in the kernel, no \/proc\/net\/if_inet6\)/);
    const [f] = check(hostFacts({ ipv6: { state: 'error', message: 'Could not fetch rule set generation id' } }));
    assert.deepEqual(f?.slice(0, 2), ['fail', 'the kernel has IPv6 but ip6tables does not work (Could not fetch rule set generation id): nothing filters IPv6']);
  });

  test('a boot that would not load them: no way at all, a way not enabled, a hook not as rendered', () => {
    const none = check(hostFacts({ firewallBoot: { ifupdown: false, netfilterPersistentEnabled: false, unitEnabled: false } }));
    assert.equal(none[0]?.[0], 'fail');
    assert.match(String(none[0]?.[1]), /^nothing loads the rules at boot/);
    assert.match(String(none[0]?.[2]), /install iptables-persistent/);

    const persistent = hostFacts({ packages: new Set(['iptables-persistent']) });
    const forPersistent = desiredFiles(inv, pair, db1, { firewallBoot: 'netfilter-persistent' });
    persistent.files = new Map(forPersistent.filter((f) => f.service === 'firewall').map(asOnHost));
    assert.deepEqual(
      check(persistent, forPersistent).map((f) => f.slice(0, 2)),
      [['fail', 'netfilter-persistent (/etc/iptables/rules.v4, /etc/iptables/rules.v6) is not enabled: a boot would not load the rules']],
    );
    persistent.firewallBoot = { ifupdown: false, netfilterPersistentEnabled: true, unitEnabled: false };
    assert.equal(check(persistent, forPersistent)[0]?.[0], 'ok');

    const leftover = hostFacts({ packages: new Set(['iptables-persistent']), firewallBoot: { ifupdown: true, netfilterPersistentEnabled: true, unitEnabled: false } });
    for (const f of forPersistent.filter((x) => x.service === 'firewall')) leftover.files.set(...asOnHost(f));
    assert.deepEqual(check(leftover, forPersistent).map((f) => f.slice(0, 2)), [
      ['fail', '/etc/network/if-pre-up.d/duet-iptables is left from another way of loading the rules at boot: a boot would run it too and load other rules than netfilter-persistent (/etc/iptables/rules.v4, /etc/iptables/rules.v6)'],
    ]);

    const edited = hostFacts();
    edited.files.set(hook.path, { ...edited.files.get(hook.path)!, mode: 0o644 });
    assert.deepEqual(check(edited).map((f) => f.slice(0, 2)), [
      ['fail', 'a boot would not load the rendered rules: /etc/network/if-pre-up.d/duet-iptables is not as rendered (mode 0644 -> 0755), and the ifupdown hook /etc/network/if-pre-up.d/duet-iptables loads it'],
    ]);
  });
});

describe('provision: the firewall part of a host\'s plan', () => {
  const inv = sampleInventory();
  const pair = inv.pairs[0]!;
  const node = pair.nodes[0];
  /**
   * The facts script's output of a host with these firewall sections, and every file as rendered
   * for `files` (the way it loads the rules at boot): only what runs can differ.
   */
  const factsOutput = (init: string, ip6tables: string, boot: string, files: 'ifupdown' | 'systemd' = 'ifupdown') =>
    [
      '@@duet hostname', node.name, '@@duet init', init,
      '@@duet packages', 'mariadb-server', 'heartbeat', 'iptables', 'socat',
      '@@duet addresses', '@@duet running', 'mariadbd', 'heartbeat', 'duet-agent',
      '@@duet iptables', '-P INPUT DROP',
      '@@duet ip6tables', ip6tables,
      '@@duet firewall-boot', boot,
      ...factsFileSections(desiredFiles(inv, pair, node, { firewallBoot: files })),
      '@@duet end', '',
    ].join('\n');
  const sshAnswering = (stdout: string) => ({ target: { name: node.name }, run: async () => ({ code: 0, stdout, stderr: '' }) }) as unknown as SshConnection;

  test('ifupdown host, flushed IPv6 table: the plan chooses the hook and repairs both tables', async () => {
    const { plan } = await planNode(inv, sshAnswering(factsOutput('sysvinit', 'on\n-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT', 'ifupdown')), pair, node);
    assert.equal(plan.firewallBoot?.boot, 'ifupdown');
    const reasons = plan.repairs.find((r) => r.service === 'firewall')?.reasons ?? [];
    assert.ok(reasons.some((r) => r === 'IPv6 rules in force: the INPUT policy is ACCEPT, the rendered rules say DROP'), reasons.join('\n'));
    assert.deepEqual(plan.services, ['firewall']);
  });

  test('systemd host with the unit not enabled: a repair that says so', async () => {
    const { plan } = await planNode(inv, sshAnswering(factsOutput('systemd', 'off', '', 'systemd')), pair, node);
    assert.equal(plan.firewallBoot?.boot, 'systemd');
    assert.ok(plan.repairs[0]?.reasons.includes('the systemd unit duet-firewall.service is not enabled at boot'));
    // IPv6 off in the kernel: nothing to compare, no IPv6 repair.
    assert.ok(!plan.repairs[0]?.reasons.some((r) => r.startsWith('IPv6')));
  });

  test('no way to load the rules at boot, or an IPv6 that ip6tables cannot filter: refused before any change', async () => {
    await assert.rejects(planNode(inv, sshAnswering(factsOutput('sysvinit', 'off', '')), pair, node), (err: unknown) => {
      assert.ok(err instanceof HostStateError);
      assert.match(err.message, /^no way to load the firewall rules at boot/);
      assert.match(err.hint ?? '', /install iptables-persistent/);
      return true;
    });
    await assert.rejects(planNode(inv, sshAnswering(factsOutput('sysvinit', 'error\nCould not fetch rule set generation id', 'ifupdown')), pair, node), (err: unknown) => {
      assert.ok(err instanceof HostStateError);
      assert.match(err.message, /^the kernel has IPv6 but ip6tables does not work \(Could not fetch rule set generation id\)/);
      return true;
    });
  });
});

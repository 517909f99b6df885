import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Secret } from '../../src/inventory/secret.ts';
import { factsScript, parseFacts, probeScript } from '../../src/plan/facts.ts';
import { daemonRepairs, planHost } from '../../src/plan/plan.ts';
import type { DesiredFile } from '../../src/render/desired.ts';

const file = (path: string, content: string, extra: Partial<DesiredFile> = {}): DesiredFile => ({
  path,
  content,
  mode: 0o644,
  owner: 'root',
  group: 'root',
  service: 'mysql',
  secret: false,
  ...extra,
});

describe('facts', () => {
  it('the script runs under sh and its output parses (run locally, read-only)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-facts-'));
    const present = join(dir, "it's here.cnf");
    writeFileSync(present, 'a=1\nb=2\n', { mode: 0o640 });
    // Over 100 bytes: tar writes the name in an entry of its own first.
    const long = join(dir, `${'n'.repeat(120)}.cnf`);
    writeFileSync(long, 'x'.repeat(700), { mode: 0o600 });
    const empty = join(dir, 'empty.cnf');
    writeFileSync(empty, '', { mode: 0o644 });
    const script = factsScript([present, join(dir, 'missing'), long, empty], ['coreutils', 'no-such-package-xyz']);
    const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
    const facts = parseFacts(out);
    assert.ok(facts.hostname.length > 0);
    assert.ok(facts.packages.has('coreutils'));
    assert.ok(!facts.packages.has('no-such-package-xyz'));
    const f = facts.files.get(present)!;
    assert.equal(f.content, 'a=1\nb=2\n');
    assert.equal(f.mode, 0o640);
    assert.equal(f.owner, userInfo().username);
    assert.deepEqual(facts.files.get(join(dir, 'missing')), { path: join(dir, 'missing'), exists: false });
    assert.equal(facts.files.get(long)?.content, 'x'.repeat(700));
    assert.equal(facts.files.get(long)?.mode, 0o600);
    assert.equal(facts.files.get(empty)?.content, '');
    assert.equal(facts.files.get(empty)?.exists, true);
  });

  it('refuses truncated output', () => {
    assert.throws(() => parseFacts('@@duet hostname\ndb1\n'), /ended early/);
  });

  it('reads the addresses from `ip -4 -o addr` and the daemons from their command names', () => {
    const facts = parseFacts(
      [
        '@@duet addresses',
        '2: eth0    inet 198.18.0.11/24 brd 198.18.0.255 scope global eth0\\       valid_lft forever preferred_lft forever',
        '2: eth0    inet 198.18.0.100/24 brd 198.18.0.255 scope global secondary eth0:0\\       valid_lft forever preferred_lft forever',
        '@@duet running',
        'heartbeat',
        'heartbeat',
        'mariadbd',
        '@@duet end',
        '',
      ].join('\n'),
    );
    assert.deepEqual(facts.addresses, [
      { address: '198.18.0.11', prefixLength: 24, device: 'eth0' },
      { address: '198.18.0.100', prefixLength: 24, device: 'eth0' },
    ]);
    assert.deepEqual(facts.running, { mysql: true, heartbeat: true, haproxy: false, agent: false });
  });
});

describe('plan', () => {
  const secrets = [new Secret('topsecret', 'env K')];

  it('nothing to do when content, mode and owner match', () => {
    const plan = planHost('db1', [file('/etc/a', 'x\n')], new Map([['/etc/a', { path: '/etc/a', exists: true, mode: 0o644, owner: 'root', group: 'root', content: 'x\n' }]]), secrets);
    assert.equal(plan.changes[0]!.action, 'unchanged');
    assert.deepEqual(plan.services, []);
  });

  it('a content change shows a diff and implies its service', () => {
    const plan = planHost('db1', [file('/etc/a', 'x = 2\n', { service: 'heartbeat' })], new Map([['/etc/a', { path: '/etc/a', exists: true, mode: 0o644, owner: 'root', group: 'root', content: 'x = 1\n' }]]), secrets);
    assert.equal(plan.changes[0]!.action, 'update');
    assert.match(plan.changes[0]!.diff, /-x = 1\n\+x = 2/);
    assert.deepEqual(plan.services, ['heartbeat']);
  });

  it('a mode fix restarts nothing', () => {
    const plan = planHost('db1', [file('/etc/a', 'x\n', { mode: 0o600 })], new Map([['/etc/a', { path: '/etc/a', exists: true, mode: 0o644, owner: 'root', group: 'root', content: 'x\n' }]]), secrets);
    assert.equal(plan.changes[0]!.action, 'update');
    assert.deepEqual(plan.changes[0]!.reasons, ['mode 0644 -> 0600']);
    assert.deepEqual(plan.services, []);
  });

  it('a missing file is created', () => {
    const plan = planHost('db1', [file('/etc/a', 'x\n')], new Map(), secrets);
    assert.equal(plan.changes[0]!.action, 'create');
    assert.deepEqual(plan.services, ['mysql']);
  });

  it('never shows a secret in a diff, old or new', () => {
    const desired = file('/etc/ha.d/authkeys', 'auth 1\n1 sha1 topsecret\n', { secret: true, mode: 0o600, service: 'heartbeat' });
    const plan = planHost('db1', [desired], new Map([['/etc/ha.d/authkeys', { path: '/etc/ha.d/authkeys', exists: true, mode: 0o600, owner: 'root', group: 'root', content: 'auth 1\n1 sha1 an-old-key\n' }]]), secrets);
    const diff = plan.changes[0]!.diff;
    assert.ok(!diff.includes('topsecret') && !diff.includes('an-old-key'), diff);
    assert.equal(plan.changes[0]!.action, 'update');
  });

  it('masks whole lines of a secret file it cannot read as "N METHOD KEY" (a hand-written old key)', () => {
    const desired = file('/etc/ha.d/authkeys', 'auth 1\n1 sha1 topsecret\n', { secret: true, mode: 0o600, service: 'heartbeat' });
    const old = '# old\nauth 2\n2 md5 old-md5-key\nsha1:old-odd-key\n  3sha1 glued-old-key\n';
    const plan = planHost('db1', [desired], new Map([['/etc/ha.d/authkeys', { path: '/etc/ha.d/authkeys', exists: true, mode: 0o600, owner: 'root', group: 'root', content: old }]]), secrets);
    const diff = plan.changes[0]!.diff;
    for (const leak of ['old-md5-key', 'old-odd-key', 'glued-old-key', 'topsecret']) assert.ok(!diff.includes(leak), diff);
    assert.match(diff, /^-2 md5 \[redacted\]$/m);
    assert.match(diff, /^-# old$/m);
    assert.match(diff, /^-auth 2$/m);
  });

  it('redacts a secret inside a non-secret file too', () => {
    const plan = planHost('db1', [file('/etc/a', 'password = topsecret\n')], new Map(), secrets);
    assert.ok(!plan.changes[0]!.diff.includes('topsecret'));
  });

  it('a changed HAProxy configuration reloads it, a changed writer agent restarts it (every service is in the order)', () => {
    const cfg = file('/etc/haproxy/haproxy.cfg', 'new\n', { service: 'haproxy' });
    const agent = file('/etc/init.d/duet-agent', 'new\n', { service: 'agent' });
    const old = (path: string) => ({ path, exists: true, mode: 0o644, owner: 'root', group: 'root', content: 'old\n' });
    const plan = planHost('lb1', [agent, cfg, file('/etc/ha.d/ha.cf', 'new\n', { service: 'heartbeat' })], new Map([[cfg.path, old(cfg.path)], [agent.path, old(agent.path)]]), secrets);
    assert.deepEqual(plan.services, ['heartbeat', 'haproxy', 'agent']);
  });

  it('daemonRepairs: the daemons a host keeps running, started where their files are rendered and they do not run', () => {
    const cfg = file('/etc/haproxy/haproxy.cfg', 'x\n', { service: 'haproxy' });
    const hacf = file('/etc/ha.d/ha.cf', 'x\n', { service: 'heartbeat' });
    const agent = file('/etc/init.d/duet-agent', 'x\n', { service: 'agent' });
    const none = { haproxy: false, heartbeat: false, agent: false };
    const balancer = ['heartbeat', 'haproxy'] as const;
    assert.deepEqual(daemonRepairs([hacf, cfg], none, balancer), [
      { service: 'heartbeat', reasons: ['heartbeat is not running'] },
      { service: 'haproxy', reasons: ['haproxy is not running'] },
    ]);
    assert.deepEqual(daemonRepairs([hacf, cfg], { ...none, heartbeat: true, haproxy: true }, balancer), []);
    assert.deepEqual(daemonRepairs([hacf, agent], none, ['agent']).map((r) => r.service), ['agent'], "a database node's Heartbeat is the pair's");
    assert.deepEqual(daemonRepairs([hacf], none, ['agent']), [], 'no agent without its files (a pair without load balancers)');
    const plan = planHost('db1', [agent], new Map([[agent.path, { path: agent.path, exists: true, mode: 0o644, owner: 'root', group: 'root', content: 'x\n' }]]), secrets, daemonRepairs([agent], none, ['agent']));
    assert.deepEqual(plan.services, ['agent']);
  });

  it('a repair runs its service without a file change, once, in service order', () => {
    const fw = file('/etc/iptables.rules', 'rules\n', { service: 'firewall' });
    const cnf = file('/etc/my.cnf', 'new\n');
    const facts = new Map([
      [fw.path, { path: fw.path, exists: true, mode: 0o644, owner: 'root', group: 'root', content: 'rules\n' }],
      [cnf.path, { path: cnf.path, exists: true, mode: 0o644, owner: 'root', group: 'root', content: 'old\n' }],
    ]);
    const plan = planHost('db1', [cnf, fw], facts, secrets, [{ service: 'firewall', reasons: ['rules in force: the INPUT policy is ACCEPT'] }]);
    assert.deepEqual(plan.services, ['mysql', 'firewall']);
    assert.deepEqual(plan.repairs, [{ service: 'firewall', reasons: ['rules in force: the INPUT policy is ACCEPT'] }]);
    const noDrift = planHost('db1', [fw], facts, secrets, [{ service: 'firewall', reasons: [] }]);
    assert.deepEqual([noDrift.services, noDrift.repairs], [[], []]);
  });
});

describe('facts: live sections', () => {
  it('the filter table in force and the probe script parse', () => {
    const facts = parseFacts('@@duet hostname\ndb1\n@@duet iptables\n-P INPUT DROP\n-A INPUT -i lo -j ACCEPT\n@@duet end\n');
    assert.equal(facts.firewallRules, '-P INPUT DROP\n-A INPUT -i lo -j ACCEPT');
    assert.match(factsScript([], [], { firewall: true }), /@@duet iptables"; iptables -S/);
    assert.doesNotMatch(factsScript([], []), /iptables -S/);
    const probe = execFileSync('sh', ['-c', probeScript()], { encoding: 'utf8' });
    assert.equal(parseFacts(probe).files.size, 0);
  });
});

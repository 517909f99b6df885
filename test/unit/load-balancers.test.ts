// The tier's pure parts: HAProxy's `show stat` CSV, the load balancer probe, and the judgements
// status and verify make of the tier (warnings and findings) from plain data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PairSpec } from '../../src/inventory/model.ts';
import { assessTier, formatTierStatus, parseHaproxyStat, parseLoadBalancerProbe, type LoadBalancerLive } from '../../src/ops/load-balancers.ts';
import { checkLoadBalancers } from '../../src/ops/verify-checks.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

const pair: PairSpec = sampleInventory().pairs[0]!;
const tier = pair.loadBalancers!;
const [lb1, lb2] = tier.nodes;

// As HAProxy 2.6 prints it (columns cut after status, which is what duet reads).
const STAT = [
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight',
  'writer,FRONTEND,,,0,1,4096,3,0,0,0,0,0,,,,,OPEN,',
  'writer,db-01,0,0,0,1,,2,0,0,,0,,0,0,0,0,UP,1',
  'writer,db-02,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1',
  'writer,BACKEND,0,0,0,1,410,2,0,0,0,0,,0,0,0,0,UP,1',
  'reader,db-01,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1',
  'reader,db-02,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/2,1',
  '',
].join('\n');

function live(host = lb1, changes: Partial<LoadBalancerLive> = {}): LoadBalancerLive {
  return { host, holdsVip: host === lb1, haproxyRunning: true, heartbeatRunning: true, servers: parseHaproxyStat(STAT), ...changes };
}

describe('HAProxy show stat', () => {
  it('lists each listener\'s servers with their status, without the FRONTEND and BACKEND rows', () => {
    assert.deepEqual(parseHaproxyStat(STAT), [
      { listener: 'writer', server: 'db-01', status: 'UP' },
      { listener: 'writer', server: 'db-02', status: 'DOWN' },
      { listener: 'reader', server: 'db-01', status: 'UP' },
      { listener: 'reader', server: 'db-02', status: 'UP 1/2' },
    ]);
  });
  it('reads nothing from an empty answer (no admin socket)', () => assert.deepEqual(parseHaproxyStat(''), []));
});

describe('the load balancer probe', () => {
  it('finds the tier IP, the daemons and the servers', () => {
    const out = `running heartbeat\nrunning haproxy\naddress 192.0.2.31/24\naddress ${tier.vip.address}/24\n@@duet-lb stat\n${STAT}`;
    const l = parseLoadBalancerProbe(lb1, tier, out);
    assert.equal(l.holdsVip, true);
    assert.equal(l.haproxyRunning, true);
    assert.equal(l.heartbeatRunning, true);
    assert.equal(l.servers.length, 4);
  });
  it('does not take another address that starts alike for the tier IP', () => {
    const l = parseLoadBalancerProbe(lb2, tier, `address ${tier.vip.address}0/24\n@@duet-lb stat\n`);
    assert.equal(l.holdsVip, false);
    assert.equal(l.haproxyRunning, false);
  });
});

describe('assessTier', () => {
  it('a healthy tier: one holder, writes to the writer, no warnings', () => {
    const s = assessTier(pair, [live(lb1), live(lb2)], 'db-01');
    assert.deepEqual(s.warnings, []);
    assert.equal(s.holder, 'lb-01');
    assert.equal(s.writeBackend, 'db-01');
    assert.match(formatTierStatus(s), /^load balancers of pair main: floating IP 192\.0\.2\.150 on lb-01, writes to db-01\nLB: lb-01 has the IP, haproxy running, heartbeat running, writer: db-01 UP, db-02 DOWN, reader: db-01 UP, db-02 UP 1\/2\n/);
    assert.deepEqual(checkLoadBalancers(pair, s).map((f) => [f.check, f.status]), [['balancers', 'ok']]);
  });
  it('warns about the IP on both or none, daemons down, and writes going elsewhere than the writer', () => {
    const both = assessTier(pair, [live(lb1), live(lb2, { holdsVip: true, haproxyRunning: false })], 'db-01');
    assert.ok(both.warnings.some((w) => /on BOTH load balancers/.test(w)));
    assert.ok(both.warnings.some((w) => /HAProxy is not running on lb-02/.test(w)));
    assert.equal(both.holder, undefined);
    const none = assessTier(pair, [live(lb1, { holdsVip: false, heartbeatRunning: false }), live(lb2)], 'db-01');
    assert.ok(none.warnings.some((w) => /on NO load balancer/.test(w)));
    assert.ok(none.warnings.some((w) => /Heartbeat is not running on lb-01/.test(w)));
    const elsewhere = assessTier(pair, [live(lb1), live(lb2)], 'db-02');
    assert.deepEqual(elsewhere.warnings, ['HAProxy on lb-01 sends writes to db-01, but the writer is db-02']);
    assert.deepEqual(checkLoadBalancers(pair, elsewhere).map((f) => f.status), ['fail']);
  });
  it('warns when no node or both nodes take writes', () => {
    const down = (s: string) => STAT.replace('writer,db-01,0,0,0,1,,2,0,0,,0,,0,0,0,0,UP', `writer,db-01,0,0,0,1,,2,0,0,,0,,0,0,0,0,${s}`);
    const noWriter = assessTier(pair, [live(lb1, { servers: parseHaproxyStat(down('DOWN')) }), live(lb2)], undefined);
    assert.match(noWriter.warnings.join('\n'), /sends writes to NO database node/);
    const two = STAT.replace('writer,db-02,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN', 'writer,db-02,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP');
    assert.match(assessTier(pair, [live(lb1, { servers: parseHaproxyStat(two) }), live(lb2)], undefined).warnings.join('\n'), /sees BOTH database nodes writable/);
  });
  it('reports an unreachable load balancer', () => {
    const s = assessTier(pair, [live(lb1), { host: lb2, unreachable: 'no SSH answer', holdsVip: false, haproxyRunning: false, heartbeatRunning: false, servers: [] }], 'db-01');
    assert.deepEqual(s.warnings, ['cannot reach load balancer lb-02 over SSH: no SSH answer']);
    assert.match(formatTierStatus(s), /LB: lb-02 UNREACHABLE \(no SSH answer\)/);
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FixtureError } from '../../src/errors.ts';
import { FIXTURE_VIP, isBenchmarkAddress, MAX_FLEET_PAIRS, planFleet, planHosts, renderFleetInventory, smallMariadbCnf } from '../../src/fixtures/plan.ts';
import { loadInventory } from '../../src/inventory/load.ts';

describe('planFleet', () => {
  it('keeps db1, db2 and app1 where the single pair has them', () => {
    const plan = planFleet(1);
    assert.equal(plan.hostSpecs, 'db1:11,db2:12,app1:13');
    assert.equal(plan.pairs[0]?.vip, FIXTURE_VIP);
  });

  it('numbers N pairs on the fixture /24, floating IPs and Heartbeat ports apart', () => {
    const plan = planFleet(MAX_FLEET_PAIRS);
    const hosts = planHosts(plan.hostSpecs);
    assert.equal(hosts.length, 2 * MAX_FLEET_PAIRS + 1);
    const addresses = [...hosts.map((h) => h.address), ...plan.pairs.map((p) => p.vip), '198.18.0.1', '198.18.0.200'];
    assert.equal(new Set(addresses).size, addresses.length, 'no address used twice');
    assert.ok(addresses.every(isBenchmarkAddress));
    assert.equal(new Set(plan.pairs.map((p) => p.udpport)).size, MAX_FLEET_PAIRS);
    assert.equal(new Set(plan.pairs.map((p) => p.authkeyFile)).size, MAX_FLEET_PAIRS);
    assert.deepEqual(plan.pairs[2]?.nodes.map((n) => n.name), ['db5', 'db6']);
  });

  it('refuses 0 and more than the /24 holds', () => {
    assert.throws(() => planFleet(0), FixtureError);
    assert.throws(() => planFleet(MAX_FLEET_PAIRS + 1), FixtureError);
  });

  it('writes an inventory duet loads, with the failover section at the monitor\'s default pace and the small buffer pool', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-fleet-'));
    try {
      const plan = planFleet(3);
      mkdirSync(join(dir, 'secrets'));
      for (const file of ['repl_password', ...plan.pairs.map((p) => p.authkeyFile)]) writeFileSync(join(dir, 'secrets', file), 'c'.repeat(32), { mode: 0o600 });
      writeFileSync(join(dir, 'id_ed25519'), '');
      writeFileSync(join(dir, 'known_hosts'), '');
      writeFileSync(join(dir, 'fleet.yml'), renderFleetInventory(plan));
      const inv = await loadInventory(join(dir, 'fleet.yml'));
      assert.deepEqual(inv.pairs.map((p) => p.name), ['p1', 'p2', 'p3']);
      assert.deepEqual(inv.pairs.map((p) => p.vip.address), ['198.18.0.100', '198.18.0.101', '198.18.0.102']);
      const failover = inv.pairs[1]!.failover;
      assert.equal(failover.pingNode, '198.18.0.1');
      // The monitor at the default pace, not every second (a fleet bench measures provisioning);
      // Heartbeat's deadtime the least that pace allows.
      assert.equal(failover.monitorInterval, 2);
      assert.equal(failover.monitorFailures, 3);
      assert.equal(failover.flapWindow, 20);
      assert.equal(inv.pairs[1]!.heartbeat.keepalive, 1);
      assert.equal(inv.pairs[1]!.heartbeat.deadtime, 10);
      assert.equal(inv.pairs[1]!.heartbeat.initdead, 20);
      assert.match(renderFleetInventory(plan), /innodb_buffer_pool_size: 8M/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sizes the fixture buffer pool', () => {
    assert.match(smallMariadbCnf('8M'), /^innodb_buffer_pool_size = 8M$/m);
    assert.match(smallMariadbCnf(), /^innodb_buffer_pool_size = 64M$/m);
  });
});

// A resolved Inventory built by hand (no YAML, no loader): a fleet of two pairs with every option
// that changes rendered output set to something visible.
import type { HostSpec, Inventory, LoadBalancerTier, NodeSpec, PairSpec } from '../../../src/inventory/model.ts';
import { deriveSecret, Secret } from '../../../src/inventory/secret.ts';

function node(name: string, address: string, serverId: number, preferred: boolean, offset: number): NodeSpec {
  return {
    name,
    address,
    serverId,
    preferred,
    autoIncrementOffset: offset,
    gtidDomainId: serverId,
    sshHost: address,
    sshPort: 22,
    hostKey: undefined,
  };
}

function pair(name: string, vip: string, authkey: Secret, nodes: [NodeSpec, NodeSpec]): PairSpec {
  return {
    name,
    vip: { address: vip, prefixLength: 24, interface: 'eth0' },
    heartbeat: { keepalive: 2, warntime: 10, deadtime: 30, initdead: 120, udpport: 694, autoFailback: false, interface: 'eth0', authkey },
    failover: { pingNode: '192.0.2.1', monitorInterval: 2, monitorFailures: 3, flapWindow: 300, stonithHost: undefined, fencePassword: deriveSecret(authkey, 'duet fence account') },
    nodes,
  };
}

function loadBalancer(name: string, address: string): HostSpec {
  return { name, address, sshHost: address, sshPort: 22, hostKey: undefined };
}

/** A tier in front of pair main, with a read listener. */
function tier(authkey: Secret): LoadBalancerTier {
  return {
    vip: { address: '192.0.2.150', prefixLength: 24, interface: 'eth0' },
    port: 3306,
    readPort: 3307,
    agentPort: 9200,
    heartbeat: { keepalive: 1, warntime: 3, deadtime: 5, initdead: 10, udpport: 695, autoFailback: false, interface: 'eth0', authkey },
    nodes: [loadBalancer('lb-01', '192.0.2.31'), loadBalancer('lb-02', '192.0.2.32')],
  };
}

export function sampleInventory(): Inventory {
  const replicationPassword = new Secret('s3cret-repl', 'env DUET_REPL_PASSWORD');
  const mainKey = new Secret('s3cret-ha-main', 'env DUET_HA_KEY');
  const shard2Key = new Secret('s3cret-ha-shard2', 'file /etc/duet/shard2.key');
  const lbKey = new Secret('s3cret-ha-lb-main', 'env DUET_LB_HA_KEY');
  return {
    file: '/srv/duet/inventory/shop.yml',
    cluster: 'shop',
    ssh: { user: 'root', port: 22, identity: undefined, knownHosts: '/root/.ssh/known_hosts', sudo: false, connectTimeoutSeconds: 10 },
    mysql: {
      flavor: 'mariadb',
      databases: ['shop', 'billing'],
      ignoreDatabases: ['mysql', 'test'],
      autoIncrementIncrement: 10,
      expireLogsDays: 10,
      maxBinlogSize: '100M',
      replication: { user: 'repl', password: replicationPassword },
      settings: [
        ['innodb_buffer_pool_size', '256M'],
        ['max_connections', '500'],
      ],
      tls: { dir: '/srv/duet/inventory/tls', days: 397, renewDays: 30 },
    },
    firewall: { manage: true, sshFrom: ['192.0.2.0/24', '203.0.113.7/32'], mysqlFrom: ['192.0.2.50/32', '192.0.2.51/32'] },
    auditLog: '/root/.duet/log/shop.jsonl',
    pairs: [
      { ...pair('main', '192.0.2.100', mainKey, [node('db-01', '192.0.2.11', 1, true, 1), node('db-02', '192.0.2.12', 2, false, 2)]), loadBalancers: tier(lbKey) },
      pair('shard2', '192.0.2.200', shard2Key, [node('db-03', '192.0.2.21', 3, false, 3), node('db-04', '192.0.2.22', 4, true, 4)]),
    ],
    secrets: [replicationPassword, mainKey, shard2Key, lbKey, ...[mainKey, shard2Key].map((key) => deriveSecret(key, 'duet fence account'))],
  };
}

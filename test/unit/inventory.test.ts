import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { InventoryError, type InventoryIssue } from '../../src/errors.ts';
import { loadInventory, parseInventory } from '../../src/inventory/load.ts';
import { Secret, redact } from '../../src/inventory/secret.ts';

const ENV = { DUET_REPL_PASSWORD: 'repl-s3cret-0123456789', DUET_HA_KEY: 'ha-s3cret-0123456789abcdef' };
const STRONG = '0123456789abcdef';

/** A secret file in a fresh temp dir, with this content and mode; its absolute path. */
function secretFile(content: string, mode = 0o600): string {
  const path = join(mkdtempSync(join(tmpdir(), 'duet-secret-')), 'secret');
  writeFileSync(path, content, { mode });
  chmodSync(path, mode); // writeFileSync's mode is filtered by the umask
  return path;
}
const FILE = '/inv/test.yml';

/** A valid inventory as plain data; each case changes one thing. */
function validInventory(): any {
  return {
    cluster: 'shop',
    mysql: {
      databases: ['app'],
      replication: { password: { env: 'DUET_REPL_PASSWORD' } },
    },
    pairs: [
      {
        name: 'main',
        vip: { address: '192.0.2.100/24' },
        heartbeat: { authkey: { env: 'DUET_HA_KEY' } },
        failover: { ping_node: '192.0.2.1' },
        nodes: [
          { name: 'db-01', address: '192.0.2.11', server_id: 1, preferred: true },
          { name: 'db-02', address: '192.0.2.12', server_id: 2 },
        ],
      },
    ],
    firewall: { ssh_from: ['192.0.2.0/24'] },
  };
}

async function issuesOf(inv: unknown, env: NodeJS.ProcessEnv = ENV): Promise<InventoryIssue[]> {
  try {
    await parseInventory(typeof inv === 'string' ? inv : stringify(inv), FILE, env);
  } catch (err) {
    assert.ok(err instanceof InventoryError, `expected InventoryError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('the inventory was accepted');
}

describe('inventory: a valid file', () => {
  it('loads with defaults and derived values', async () => {
    const inv = await parseInventory(stringify(validInventory()), FILE, ENV);
    const [a, b] = inv.pairs[0]!.nodes;
    assert.equal(inv.ssh.user, 'root');
    assert.equal(inv.ssh.port, 22);
    assert.equal(inv.mysql.autoIncrementIncrement, 10);
    assert.equal(inv.pairs[0]!.heartbeat.autoFailback, false, 'a failed database must not take the role back by itself');
    assert.deepEqual([a.autoIncrementOffset, b.autoIncrementOffset], [1, 2]);
    assert.deepEqual([a.gtidDomainId, b.gtidDomainId], [1, 2]);
    assert.equal(a.sshHost, '192.0.2.11');
    assert.equal(inv.pairs[0]!.vip.prefixLength, 24);
    assert.equal(inv.mysql.replication.password.reveal(), 'repl-s3cret-0123456789');
  });

  it('never shows a secret when printed or serialised', async () => {
    const inv = await parseInventory(stringify(validInventory()), FILE, ENV);
    const shown = JSON.stringify(inv) + String(inv.mysql.replication.password) + inspect(inv, { depth: 9 });
    assert.ok(!shown.includes(ENV.DUET_REPL_PASSWORD) && !shown.includes(ENV.DUET_HA_KEY), shown);
  });

  it('reads file secrets relative to the inventory and drops one trailing newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-inv-'));
    writeFileSync(join(dir, 'repl'), 'from-file-0123456789\n', { mode: 0o600 });
    const inv = validInventory();
    inv.mysql.replication.password = { file: 'repl' };
    writeFileSync(join(dir, 'inv.yml'), stringify(inv));
    const loaded = await loadInventory(join(dir, 'inv.yml'), ENV);
    assert.equal(loaded.mysql.replication.password.reveal(), 'from-file-0123456789');
  });

  it('accepts ordinary settings, interface names and an explicit ssh_from 0.0.0.0/0', async () => {
    const inv = validInventory();
    inv.mysql.settings = { innodb_buffer_pool_size: '256M', 'max-connections': 500, skip_slave_start: true, character_set_server: 'utf8mb4', log_bin_trust_function_creators: 1 };
    inv.pairs[0].vip.interface = 'bond0.100';
    inv.pairs[0].heartbeat.interface = 'eth1:hb';
    inv.firewall = { ssh_from: ['0.0.0.0/0'] };
    inv.ssh = { user: 'deploy.ops' };
    node(0, 0)(inv).ssh_host = 'DB1.example.com';
    node(0, 1)(inv).ssh_host = '2001:db8::12';
    const loaded = await parseInventory(stringify(inv), FILE, ENV);
    assert.equal(loaded.mysql.settings.length, 5);
    assert.deepEqual(loaded.firewall.sshFrom, ['0.0.0.0/0']);
  });

  it('keeps the TLS folder in ~/.duet/tls/<cluster> unless mysql.tls.dir names one (relative to the inventory)', async () => {
    const inv = validInventory();
    const loaded = await parseInventory(stringify(inv), FILE, ENV);
    assert.deepEqual(loaded.mysql.tls, { dir: join(homedir(), '.duet', 'tls', loaded.cluster), days: 397, renewDays: 30 });
    inv.mysql.tls = { dir: 'pki', days: 90, renew_days: 20 };
    assert.deepEqual((await parseInventory(stringify(inv), FILE, ENV)).mysql.tls, { dir: join(dirname(FILE), 'pki'), days: 90, renewDays: 20 });
  });

  it('needs no ssh_from when duet does not manage the firewall', async () => {
    const inv = validInventory();
    inv.firewall = { manage: false };
    assert.deepEqual((await parseInventory(stringify(inv), FILE, ENV)).firewall.sshFrom, []);
  });

  it('accepts a fleet of pairs', async () => {
    const inv = validInventory();
    inv.pairs.push({
      name: 'shard2',
      vip: { address: '192.0.2.200/24' },
      heartbeat: { authkey: { env: 'DUET_HA_KEY' } },
      failover: { ping_node: '192.0.2.1' },
      nodes: [
        { name: 'db-03', address: '192.0.2.13', server_id: 3, preferred: true },
        { name: 'db-04', address: '192.0.2.14', server_id: 4 },
      ],
    });
    const loaded = await parseInventory(stringify(inv), FILE, ENV);
    assert.equal(loaded.pairs.length, 2);
  });
});

/** The valid inventory with a load-balanced tier in front of its pair. */
function withLoadBalancers(): any {
  const inv = validInventory();
  inv.pairs[0].load_balancers = {
    vip: { address: '192.0.2.200/24' },
    heartbeat: { udpport: 695, authkey: { env: 'DUET_LB_KEY' } },
    nodes: [
      { name: 'lb-01', address: '192.0.2.21' },
      { name: 'lb-02', address: '192.0.2.22', ssh_port: 2222 },
    ],
  };
  return inv;
}
const LB_ENV = { ...ENV, DUET_LB_KEY: 'lb-s3cret-0123456789abcdef' };

describe('inventory: load balancers', () => {
  it('loads the tier with defaults', async () => {
    const inv = await parseInventory(stringify(withLoadBalancers()), FILE, LB_ENV);
    const tier = inv.pairs[0]!.loadBalancers!;
    assert.equal(tier.port, 3306);
    assert.equal(tier.readPort, undefined);
    assert.equal(tier.agentPort, 9200);
    assert.deepEqual(tier.vip, { address: '192.0.2.200', prefixLength: 24, interface: 'eth0' });
    assert.equal(tier.heartbeat.interface, 'eth0');
    assert.equal(tier.heartbeat.authkey.reveal(), LB_ENV.DUET_LB_KEY);
    assert.deepEqual(tier.nodes.map((n) => [n.name, n.sshHost, n.sshPort]), [['lb-01', '192.0.2.21', 22], ['lb-02', '192.0.2.22', 2222]]);
    assert.ok(inv.secrets.some((s) => s.reveal() === LB_ENV.DUET_LB_KEY), 'the tier key is redacted like the others');
  });

  it('is optional', async () => {
    const inv = await parseInventory(stringify(validInventory()), FILE, ENV);
    assert.equal(inv.pairs[0]!.loadBalancers, undefined);
  });

  const lb = (i: any) => i.pairs[0].load_balancers;
  const lbCases: BadCase[] = [
    { name: 'one load balancer', change: (i) => lb(i).nodes.pop(), path: 'pairs[0].load_balancers.nodes', message: 'the load balancer tier needs exactly two nodes, found 1' },
    { name: 'a load balancer named like a database node', change: (i) => (lb(i).nodes[1].name = 'db-02'), path: 'pairs[0].load_balancers.nodes[1].name', message: 'node name db-02 is already used at pairs[0].nodes[1].name' },
    { name: 'a load balancer with a database address', change: (i) => (lb(i).nodes[0].address = '192.0.2.11'), path: 'pairs[0].load_balancers.nodes[0].address', message: 'address 192.0.2.11 is already used at pairs[0].nodes[0].address' },
    { name: 'a load balancer on the pair floating IP', change: (i) => (lb(i).nodes[0].address = '192.0.2.100'), path: 'pairs[0].load_balancers.nodes[0].address', message: '192.0.2.100 is the floating IP of a pair' },
    { name: 'the tier IP is the pair floating IP', change: (i) => (lb(i).vip.address = '192.0.2.100/24'), path: 'pairs[0].load_balancers.vip.address', message: 'floating IP 192.0.2.100 is already used at pairs[0].vip.address' },
    { name: 'the tier IP is a database node', change: (i) => (lb(i).vip.address = '192.0.2.12/24'), path: 'pairs[0].load_balancers.vip.address', message: 'the floating IP 192.0.2.12 is the address of a database node' },
    { name: 'the tier IP is a load balancer', change: (i) => (lb(i).vip.address = '192.0.2.22/24'), path: 'pairs[0].load_balancers.vip.address', message: 'the floating IP 192.0.2.22 equals the address of node lb-02' },
    { name: 'a load balancer outside the tier subnet', change: (i) => (lb(i).nodes[1].address = '198.51.100.22'), path: 'pairs[0].load_balancers.nodes[1].address', message: "198.51.100.22 is outside the floating IP's subnet 192.0.2.200/24" },
    { name: 'tier IP without prefix', change: (i) => (lb(i).vip.address = '192.0.2.200'), path: 'pairs[0].load_balancers.vip.address', message: '"192.0.2.200" is not an IPv4 address with a prefix length' },
    { name: 'the pair Heartbeat port on the same network', change: (i) => (lb(i).heartbeat.udpport = 694), path: 'pairs[0].load_balancers.heartbeat.udpport', message: "udpport 694 is the database pair's, on the same network" },
    { name: 'tier Heartbeat timing', change: (i) => Object.assign(lb(i).heartbeat, { keepalive: 3, deadtime: 3 }), path: 'pairs[0].load_balancers.heartbeat.deadtime', message: 'deadtime 3 must be greater than keepalive 3' },
    { name: 'read port equal to the write port', change: (i) => (lb(i).read_port = 3306), path: 'pairs[0].load_balancers.read_port', message: 'read_port 3306 is already port' },
    { name: 'agent on the MySQL port', change: (i) => (lb(i).agent_port = 3306), path: 'pairs[0].load_balancers.agent_port', message: 'agent_port 3306 is already port' },
    { name: 'agent on the MySQL port, tier on another', change: (i) => Object.assign(lb(i), { port: 4040, agent_port: 3306 }), path: 'pairs[0].load_balancers.agent_port', message: "agent_port 3306 is the database nodes' MySQL port" },
    { name: 'unknown key in a load balancer', change: (i) => (lb(i).nodes[0].server_id = 5), path: 'pairs[0].load_balancers.nodes[0].server_id', message: 'unknown key "server_id"' },
    { name: 'tier key missing', change: () => undefined, path: 'pairs[0].load_balancers.heartbeat.authkey', message: 'environment variable DUET_LB_KEY is not set', env: ENV },
  ];
  for (const c of lbCases) {
    it(`refuses ${c.name}`, async () => {
      const inv = withLoadBalancers();
      c.change(inv);
      const issues = await issuesOf(inv, c.env ?? LB_ENV);
      const hit = issues.find((i) => i.path === c.path);
      assert.ok(hit, `no issue at ${c.path}; got ${JSON.stringify(issues)}`);
      if (typeof c.message === 'string') assert.equal(hit.message, c.message);
      else assert.match(hit.message, c.message);
      assert.ok(hit.line !== undefined, 'the issue has a line');
    });
  }
});

interface BadCase {
  name: string;
  change: (inv: any) => void;
  path: string;
  message: string | RegExp;
  env?: NodeJS.ProcessEnv;
}

const node = (p: number, n: number) => (inv: any) => inv.pairs[p].nodes[n];

const cases: BadCase[] = [
  { name: 'unknown top-level key', change: (i) => (i.clustr = 'x'), path: 'clustr', message: 'unknown key "clustr"' },
  { name: 'unknown nested key', change: (i) => (node(0, 1)(i).serverid = 3), path: 'pairs[0].nodes[1].serverid', message: 'unknown key "serverid"' },
  { name: 'missing required field', change: (i) => delete i.cluster, path: 'cluster', message: 'is required' },
  { name: 'wrong type', change: (i) => (node(0, 0)(i).server_id = 'one'), path: 'pairs[0].nodes[0].server_id', message: 'must be a number' },
  { name: 'duplicate server_id', change: (i) => (node(0, 1)(i).server_id = 1), path: 'pairs[0].nodes[1].server_id', message: 'server_id 1 is already used at pairs[0].nodes[0].server_id' },
  { name: 'server_id zero', change: (i) => (node(0, 1)(i).server_id = 0), path: 'pairs[0].nodes[1].server_id', message: 'server_id 0 is out of range' },
  { name: 'server_id too large', change: (i) => (node(0, 1)(i).server_id = 4294967296), path: 'pairs[0].nodes[1].server_id', message: 'server_id 4294967296 is out of range' },
  { name: 'increment smaller than writers', change: (i) => (i.mysql.auto_increment_increment = 1), path: 'mysql.auto_increment_increment', message: 'auto_increment_increment 1 is smaller than the 2 writers of pair main' },
  { name: 'duplicate offset', change: (i) => { node(0, 0)(i).auto_increment_offset = 2; }, path: 'pairs[0].nodes[1].auto_increment_offset', message: 'auto_increment_offset 2 is already used at pairs[0].nodes[0].auto_increment_offset' },
  { name: 'offset larger than increment', change: (i) => (node(0, 1)(i).auto_increment_offset = 11), path: 'pairs[0].nodes[1].auto_increment_offset', message: 'auto_increment_offset 11 must be between 1 and auto_increment_increment (10)' },
  { name: 'duplicate GTID domain', change: (i) => (node(0, 1)(i).gtid_domain_id = 1), path: 'pairs[0].nodes[1].gtid_domain_id', message: 'gtid_domain_id 1 is already used at pairs[0].nodes[0].server_id' },
  { name: 'GTID domain on MySQL', change: (i) => { i.mysql.flavor = 'mysql'; node(0, 1)(i).gtid_domain_id = 7; }, path: 'pairs[0].nodes[1].gtid_domain_id', message: 'gtid_domain_id exists only on MariaDB' },
  { name: 'VIP equal to a node address', change: (i) => (i.pairs[0].vip.address = '192.0.2.11/24'), path: 'pairs[0].vip.address', message: 'the floating IP 192.0.2.11 equals the address of node db-01' },
  { name: 'node outside the VIP subnet', change: (i) => (node(0, 1)(i).address = '192.0.3.12'), path: 'pairs[0].nodes[1].address', message: '192.0.3.12 is outside the floating IP\'s subnet 192.0.2.100/24' },
  { name: 'VIP without prefix', change: (i) => (i.pairs[0].vip.address = '192.0.2.100'), path: 'pairs[0].vip.address', message: '"192.0.2.100" is not an IPv4 address with a prefix length' },
  { name: 'VIP is the broadcast address', change: (i) => (i.pairs[0].vip.address = '192.0.2.255/24'), path: 'pairs[0].vip.address', message: '192.0.2.255 is the network or broadcast address of /24' },
  { name: 'duplicate node name', change: (i) => (node(0, 1)(i).name = 'db-01'), path: 'pairs[0].nodes[1].name', message: 'node name db-01 is already used at pairs[0].nodes[0].name' },
  { name: 'duplicate node address', change: (i) => (node(0, 1)(i).address = '192.0.2.11'), path: 'pairs[0].nodes[1].address', message: 'address 192.0.2.11 is already used at pairs[0].nodes[0].address' },
  { name: 'bad node address', change: (i) => (node(0, 1)(i).address = '192.0.2.300'), path: 'pairs[0].nodes[1].address', message: '"192.0.2.300" is not an IPv4 address' },
  { name: 'bad node name', change: (i) => (node(0, 1)(i).name = 'db_02!'), path: 'pairs[0].nodes[1].name', message: /must be a host name/ },
  { name: 'three nodes in a pair', change: (i) => i.pairs[0].nodes.push({ name: 'db-03', address: '192.0.2.13', server_id: 3 }), path: 'pairs[0].nodes', message: 'a pair needs exactly two nodes, found 3' },
  { name: 'no preferred node', change: (i) => (node(0, 0)(i).preferred = false), path: 'pairs[0].nodes', message: 'exactly one node must be preferred: true, found 0' },
  { name: 'two preferred nodes', change: (i) => (node(0, 1)(i).preferred = true), path: 'pairs[0].nodes', message: 'exactly one node must be preferred: true, found 2' },
  { name: 'deadtime not above keepalive', change: (i) => Object.assign(i.pairs[0].heartbeat, { keepalive: 5, deadtime: 5, initdead: 20 }) && Object.assign(i.pairs[0].failover, { monitor_interval: 1, monitor_failures: 1 }), path: 'pairs[0].heartbeat.deadtime', message: 'deadtime 5 must be greater than keepalive 5' },
  { name: 'ping node not an address', change: (i) => (i.pairs[0].failover.ping_node = 'gateway'), path: 'pairs[0].failover.ping_node', message: '"gateway" is not an IPv4 address' },
  { name: 'ping node is a node', change: (i) => (i.pairs[0].failover.ping_node = '192.0.2.12'), path: 'pairs[0].failover.ping_node', message: 'the ping node 192.0.2.12 is a node or the floating IP of this pair' },
  { name: 'monitor slower than deadtime', change: (i) => Object.assign(i.pairs[0].failover, { monitor_interval: 5, monitor_failures: 5 }), path: 'pairs[0].failover.monitor_failures', message: 'the monitor needs up to 31 s (monitor_interval 5 x (monitor_failures 5 + 1) + 1 s) to notice a cut link, not less than deadtime 30' },
  { name: 'post_failover hook on two lines', change: (i) => (i.hooks = { post_failover: { run: 'true\nreboot' } }), path: 'hooks.post_failover.run', message: 'the post_failover command must be one line' },
  { name: 'stonith_host on two lines', change: (i) => (i.pairs[0].failover.stonith_host = '* external/ssh db-01\nnode evil'), path: 'pairs[0].failover.stonith_host', message: 'stonith_host must be one line' },
  { name: 'initdead under twice deadtime', change: (i) => Object.assign(i.pairs[0].heartbeat, { deadtime: 30, initdead: 59 }), path: 'pairs[0].heartbeat.initdead', message: 'initdead 59 must be at least twice deadtime (60)' },
  { name: 'warntime outside keepalive..deadtime', change: (i) => Object.assign(i.pairs[0].heartbeat, { warntime: 40 }), path: 'pairs[0].heartbeat.warntime', message: 'warntime 40 must lie between keepalive 2 and deadtime 30' },
  { name: 'bad CIDR in ssh_from', change: (i) => (i.firewall = { ssh_from: ['10.0.0.0/33'] }), path: 'firewall.ssh_from[0]', message: '"10.0.0.0/33" is not an IPv4 or IPv6 address or CIDR' },
  { name: 'bad IPv6 CIDR in ssh_from', change: (i) => (i.firewall = { ssh_from: ['2001:db8::/129'] }), path: 'firewall.ssh_from[0]', message: '"2001:db8::/129" is not an IPv4 or IPv6 address or CIDR' },
  { name: 'IPv6 in mysql_from', change: (i) => (i.firewall.mysql_from = ['2001:db8::10']), path: 'firewall.mysql_from[0]', message: '"2001:db8::10" is IPv6, but applications reach MySQL on the floating IP only, which is IPv4' },
  { name: 'bad CIDR in mysql_from', change: (i) => (i.firewall = { mysql_from: ['app-server'] }), path: 'firewall.mysql_from[0]', message: '"app-server" is not an IPv4 address or CIDR' },
  { name: 'unset secret variable', change: () => {}, env: { DUET_HA_KEY: 'x' }, path: 'mysql.replication.password', message: 'environment variable DUET_REPL_PASSWORD is not set' },
  { name: 'missing secret file', change: (i) => (i.pairs[0].heartbeat.authkey = { file: '/nonexistent/ha' }), path: 'pairs[0].heartbeat.authkey', message: 'cannot read secret file /nonexistent/ha (ENOENT)' },
  { name: 'secret with both env and file', change: (i) => (i.pairs[0].heartbeat.authkey = { env: 'A', file: 'b' }), path: 'pairs[0].heartbeat.authkey', message: 'a secret needs exactly one of `env: VARIABLE` or `file: PATH`' },
  { name: 'managed option in settings', change: (i) => (i.mysql.settings = { server_id: 5 }), path: 'mysql.settings.server_id', message: 'server_id is managed by duet' },
  { name: 'bad option name in settings', change: (i) => (i.mysql.settings = { 'Bad Option': 1 }), path: 'mysql.settings.Bad Option', message: '"Bad Option" is not a server option name' },
  { name: 'managed option spelt with dashes', change: (i) => (i.mysql.settings = { 'read-only': 'OFF' }), path: 'mysql.settings.read-only', message: 'read-only is managed by duet' },
  { name: 'managed option behind loose_', change: (i) => (i.mysql.settings = { 'loose-server-id': 9 }), path: 'mysql.settings.loose-server-id', message: 'loose-server-id (read by the server as server_id) is managed by duet' },
  { name: 'managed option switched off by skip_', change: (i) => (i.mysql.settings = { 'skip-log-bin': true }), path: 'mysql.settings.skip-log-bin', message: 'skip-log-bin (read by the server as log_bin) is managed by duet' },
  { name: 'skip_name_resolve is managed', change: (i) => (i.mysql.settings = { skip_name_resolve: 'OFF' }), path: 'mysql.settings.skip_name_resolve', message: 'skip_name_resolve is managed by duet' },
  { name: 'ssl_key is managed (mysql.tls)', change: (i) => (i.mysql.settings = { ssl_key: '/tmp/k.pem' }), path: 'mysql.settings.ssl_key', message: 'ssl_key is managed by duet' },
  { name: 'skip_ssl is managed (mysql.tls)', change: (i) => (i.mysql.settings = { 'skip-ssl': true }), path: 'mysql.settings.skip-ssl', message: /^skip-ssl \(read by the server as ssl_ca\) is managed by duet/ },
  { name: 'tls renewal not before the end', change: (i) => (i.mysql.tls = { days: 30, renew_days: 30 }), path: 'mysql.tls.renew_days', message: /^renew_days 30 is not less than days 30/ },
  { name: 'unknown key under mysql.tls', change: (i) => (i.mysql.tls = { directory: 'x' }), path: 'mysql.tls.directory', message: 'unknown key "directory"' },
  { name: 'skip_grant_tables refused', change: (i) => (i.mysql.settings = { skip_grant_tables: true }), path: 'mysql.settings.skip_grant_tables', message: 'skip_grant_tables is refused: it lets anyone log in as anyone, without a password' },
  { name: 'skip-grant-tables refused (dashes)', change: (i) => (i.mysql.settings = { 'skip-grant-tables': 1 }), path: 'mysql.settings.skip-grant-tables', message: /^skip-grant-tables is refused/ },
  { name: 'an abbreviation of a refused option', change: (i) => (i.mysql.settings = { 'init-f': '/tmp/x.sql' }), path: 'mysql.settings.init-f', message: /^init-f \(read by the server as init_file\) is refused/ },
  { name: 'init_file refused', change: (i) => (i.mysql.settings = { init_file: '/tmp/x.sql' }), path: 'mysql.settings.init_file', message: /^init_file is refused: it runs SQL/ },
  { name: 'init_connect refused', change: (i) => (i.mysql.settings = { init_connect: 'SET x=1' }), path: 'mysql.settings.init_connect', message: /^init_connect is refused/ },
  { name: 'sql_mode refused', change: (i) => (i.mysql.settings = { sql_mode: 'NO_BACKSLASH_ESCAPES' }), path: 'mysql.settings.sql_mode', message: /^sql_mode is refused: it changes how the server parses/ },
  { name: 'ansi refused', change: (i) => (i.mysql.settings = { ansi: true }), path: 'mysql.settings.ansi', message: /^ansi is refused/ },
  { name: 'skip_networking refused', change: (i) => (i.mysql.settings = { 'skip-networking': true }), path: 'mysql.settings.skip-networking', message: /^skip-networking is refused/ },
  { name: 'local_infile refused', change: (i) => (i.mysql.settings = { local_infile: 1 }), path: 'mysql.settings.local_infile', message: /^local_infile is refused/ },
  { name: 'plugin_load_add refused', change: (i) => (i.mysql.settings = { 'loose-plugin-load-add': 'x.so' }), path: 'mysql.settings.loose-plugin-load-add', message: /^loose-plugin-load-add \(read by the server as plugin_load_add\) is refused/ },
  { name: 'secure_file_priv refused', change: (i) => (i.mysql.settings = { secure_file_priv: '' }), path: 'mysql.settings.secure_file_priv', message: /^secure_file_priv is refused/ },
  { name: 'character_set_client_handshake refused', change: (i) => (i.mysql.settings = { 'skip-character-set-client-handshake': true }), path: 'mysql.settings.skip-character-set-client-handshake', message: /is refused: it makes the server ignore the character set/ },
  { name: 'old_passwords refused', change: (i) => (i.mysql.settings = { old_passwords: 1 }), path: 'mysql.settings.old_passwords', message: /^old_passwords is refused/ },
  { name: 'a newline in a setting value', change: (i) => (i.mysql.settings = { max_connections: '500\nskip-grant-tables' }), path: 'mysql.settings.max_connections', message: 'the value of max_connections holds a line break or another control character' },
  { name: 'a carriage return in a setting value', change: (i) => (i.mysql.settings = { innodb_buffer_pool_size: '256M\rread_only = OFF' }), path: 'mysql.settings.innodb_buffer_pool_size', message: /holds a line break/ },
  { name: 'a newline in vip.interface', change: (i) => (i.pairs[0].vip.interface = 'eth0\nnode evil'), path: 'pairs[0].vip.interface', message: /must be a network interface name/ },
  { name: 'a space in vip.interface', change: (i) => (i.pairs[0].vip.interface = 'eth0 db-02 IPaddr::10.0.0.1'), path: 'pairs[0].vip.interface', message: /must be a network interface name/ },
  { name: 'a newline in heartbeat.interface', change: (i) => (i.pairs[0].heartbeat.interface = 'eth0\nucast eth0 10.0.0.1'), path: 'pairs[0].heartbeat.interface', message: /must be a network interface name/ },
  { name: 'an interface name over 15 characters', change: (i) => (i.pairs[0].heartbeat.interface = 'a-very-long-name0'), path: 'pairs[0].heartbeat.interface', message: /must be a network interface name/ },
  { name: 'interface ".."', change: (i) => (i.pairs[0].vip.interface = '..'), path: 'pairs[0].vip.interface', message: /must be a network interface name/ },
  { name: 'a quote in ssh.user', change: (i) => (i.ssh = { user: "op' OR '1" }), path: 'ssh.user', message: /must be a login name/ },
  { name: 'ssh_host starting with a dash', change: (i) => (node(0, 0)(i).ssh_host = '-oProxyCommand=sh'), path: 'pairs[0].nodes[0].ssh_host', message: 'must be a host name or an IP address' },
  { name: 'ssh_host with a space', change: (i) => (node(0, 0)(i).ssh_host = 'db1 x'), path: 'pairs[0].nodes[0].ssh_host', message: 'must be a host name or an IP address' },
  { name: 'ssh_from omitted', change: (i) => delete i.firewall, path: 'firewall.ssh_from', message: 'is required while firewall.manage is on' },
  { name: 'ssh_from empty', change: (i) => (i.firewall.ssh_from = []), path: 'firewall.ssh_from', message: 'must list at least one network, or nobody can log in over SSH' },
  { name: 'a newline in a password from the environment', change: () => {}, env: { ...ENV, DUET_REPL_PASSWORD: `${STRONG}\nx` }, path: 'mysql.replication.password', message: 'environment variable DUET_REPL_PASSWORD holds a line break or another control character' },
  { name: 'a newline in an authkey from the environment', change: () => {}, env: { ...ENV, DUET_HA_KEY: `${STRONG}\nauth 2` }, path: 'pairs[0].heartbeat.authkey', message: 'environment variable DUET_HA_KEY holds a line break or another control character' },
  { name: 'two lines in a secret file', change: (i) => (i.pairs[0].heartbeat.authkey = { file: secretFile(`${STRONG}\nauth 2\n`) }), path: 'pairs[0].heartbeat.authkey', message: /^secret file \S+ holds a line break or another control character$/ },
  { name: 'a one-character password', change: () => {}, env: { ...ENV, DUET_REPL_PASSWORD: 'x' }, path: 'mysql.replication.password', message: 'environment variable DUET_REPL_PASSWORD is shorter than 16 characters' },
  { name: 'the authkey "duet"', change: () => {}, env: { ...ENV, DUET_HA_KEY: 'duet' }, path: 'pairs[0].heartbeat.authkey', message: 'environment variable DUET_HA_KEY is shorter than 16 characters' },
  { name: 'a short secret from a file', change: (i) => (i.mysql.replication.password = { file: secretFile('duet\n') }), path: 'mysql.replication.password', message: /^secret file \S+ is shorter than 16 characters$/ },
  { name: 'a password over 32 characters', change: () => {}, env: { ...ENV, DUET_REPL_PASSWORD: 'S3cr3t-'.padEnd(113, 'x') }, path: 'mysql.replication.password', message: /^environment variable DUET_REPL_PASSWORD is longer than 32 characters/ },
  { name: 'a password outside printable ASCII', change: () => {}, env: { ...ENV, DUET_REPL_PASSWORD: `${STRONG}é` }, path: 'mysql.replication.password', message: 'environment variable DUET_REPL_PASSWORD holds characters other than printable ASCII' },
  { name: 'an authkey with a space', change: () => {}, env: { ...ENV, DUET_HA_KEY: `${STRONG} ${STRONG}` }, path: 'pairs[0].heartbeat.authkey', message: 'environment variable DUET_HA_KEY holds a space or characters other than printable ASCII' },
  { name: 'a secret file readable by others', change: (i) => (i.mysql.replication.password = { file: secretFile(STRONG, 0o644) }), path: 'mysql.replication.password', message: /^secret file \S+ is accessible by group or others \(mode 0644\)$/ },
  { name: 'a secret file readable by its group', change: (i) => (i.pairs[0].heartbeat.authkey = { file: secretFile(STRONG, 0o640) }), path: 'pairs[0].heartbeat.authkey', message: /\(mode 0640\)$/ },
  { name: 'duet schema ignored', change: (i) => (i.mysql.ignore_databases = ['duet']), path: 'mysql.ignore_databases[0]', message: 'the duet schema must replicate' },
  { name: 'duplicate pair name', change: (i) => i.pairs.push({ ...structuredClone(i.pairs[0]), vip: { address: '192.0.2.200/24' }, nodes: [{ name: 'db-03', address: '192.0.2.13', server_id: 3, preferred: true }, { name: 'db-04', address: '192.0.2.14', server_id: 4 }] }), path: 'pairs[1].name', message: 'pair name main is already used at pairs[0].name' },
  { name: 'server_id duplicated across pairs', change: (i) => i.pairs.push({ ...structuredClone(i.pairs[0]), name: 'b', vip: { address: '192.0.2.200/24' }, nodes: [{ name: 'db-03', address: '192.0.2.13', server_id: 2, preferred: true }, { name: 'db-04', address: '192.0.2.14', server_id: 4 }] }), path: 'pairs[1].nodes[0].server_id', message: 'server_id 2 is already used at pairs[0].nodes[1].server_id' },
];

describe('inventory: every rule gives a precise error', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const inv = validInventory();
      c.change(inv);
      const issues = await issuesOf(inv, c.env);
      const hit = issues.find((i) => i.path === c.path);
      assert.ok(hit, `no issue at ${c.path}; got ${JSON.stringify(issues)}`);
      if (typeof c.message === 'string') assert.equal(hit.message, c.message);
      else assert.match(hit.message, c.message);
      assert.equal(hit.file, FILE);
    });
  }

  it('reports every problem, not just the first', async () => {
    const inv = validInventory();
    node(0, 1)(inv).server_id = 1;
    inv.pairs[0].vip.address = '192.0.2.11/24';
    inv.pairs[0].heartbeat.initdead = 10;
    const issues = await issuesOf(inv);
    // In file order: vip, heartbeat, then nodes.
    assert.deepEqual(issues.map((i) => i.path), ['pairs[0].vip.address', 'pairs[0].heartbeat.initdead', 'pairs[0].nodes[1].server_id']);
  });

  it('reports the other problems alongside unknown keys', async () => {
    const inv = validInventory();
    inv.clustr = 'typo';
    node(0, 1)(inv).server_id = 1;
    const issues = await issuesOf(inv);
    // The misspelt key was added last, so it is at the end of the file.
    assert.deepEqual(issues.map((i) => i.path), ['pairs[0].nodes[1].server_id', 'clustr']);
  });

  it('gives line and column of the offending value', async () => {
    const text = stringify(validInventory()).replace('server_id: 2', 'server_id: 1');
    const issue = (await issuesOf(text)).find((i) => i.path === 'pairs[0].nodes[1].server_id')!;
    const line = text.split('\n')[issue.line! - 1]!;
    assert.equal(line.slice(issue.column! - 1), '1');
  });

  it('reports YAML syntax errors with a position', async () => {
    const issues = await issuesOf('cluster: [unclosed\n');
    assert.match(issues[0]!.message, /^YAML syntax/);
    assert.ok(issues[0]!.line);
  });

  it('never quotes a refused secret, and names the fix', async () => {
    const long = 'S3cr3t-'.padEnd(113, 'q');
    const multi = `${STRONG}\nauth 2`;
    const issues = await issuesOf(validInventory(), { DUET_REPL_PASSWORD: long, DUET_HA_KEY: multi });
    assert.equal(issues.length, 2);
    for (const i of issues) {
      const shown = JSON.stringify(i);
      assert.ok(!shown.includes('S3cr3t') && !shown.includes(STRONG), shown);
      assert.match(i.hint ?? '', /openssl rand -hex 16/);
    }
    const loose = secretFile(STRONG, 0o604);
    const inv = validInventory();
    inv.mysql.replication.password = { file: loose };
    const [issue] = (await issuesOf(inv)).filter((i) => i.path === 'mysql.replication.password');
    assert.equal(issue?.hint, `chmod 600 ${loose}`);
  });

  it('names the file when it does not exist', async () => {
    await assert.rejects(loadInventory('/nonexistent/inv.yml', ENV), (err: InventoryError) => {
      assert.equal(err.exitCode, 2);
      assert.match(err.describe(), /\/nonexistent\/inv\.yml: file not found/);
      return true;
    });
  });
});

describe('secrets', () => {
  it('redact replaces every value, longest first', () => {
    const secrets = [new Secret('abc', 'env A'), new Secret('abcdef', 'env B')];
    assert.equal(redact('x abcdef y abc', secrets), 'x [redacted] y [redacted]');
  });
});

describe('inventory: ssh.config', () => {
  /** An OpenSSH client config in a fresh temp dir; its absolute path. */
  function sshConfig(text: string): string {
    const path = join(mkdtempSync(join(tmpdir(), 'duet-sshconfig-')), 'config');
    writeFileSync(path, text);
    return path;
  }
  const CONFIG = [
    'Host db-01',
    '  HostName 10.0.0.11',
    'Host db-*',
    '  ProxyJump ops@bastion',
    '  Port 2222',
    '  User dba',
    '  IdentityFile keys/db',
    'Host bastion',
    '  HostName 198.51.100.7',
    '  Port 2022',
    'Host *',
    '  User fallback',
  ].join('\n');

  it('applies HostName, Port, User, IdentityFile and ProxyJump, matched against the node name', async () => {
    const path = sshConfig(CONFIG);
    const inv = validInventory();
    inv.ssh = { config: path };
    const model = await parseInventory(stringify(inv), FILE, ENV);
    const [a, b] = model.pairs[0]!.nodes;
    assert.equal(model.ssh.user, 'dba');
    assert.equal(model.ssh.config, path);
    assert.equal(a.sshHost, '10.0.0.11');
    assert.equal(b.sshHost, '192.0.2.12');
    assert.equal(a.sshPort, 2222);
    assert.equal(a.sshIdentity, join(path, '..', 'keys', 'db'));
    assert.deepEqual(a.sshJump, [{ alias: 'bastion', host: '198.51.100.7', port: 2022, user: 'ops', identity: undefined }]);
  });

  it('lets values written in the inventory win over the config', async () => {
    const inv = validInventory();
    inv.ssh = { config: sshConfig(CONFIG), user: 'root', port: 22, identity: '/keys/id' };
    inv.pairs[0].nodes[0].ssh_host = 'db-01.example';
    inv.pairs[0].nodes[1].ssh_port = 2200;
    const model = await parseInventory(stringify(inv), FILE, ENV);
    const [a, b] = model.pairs[0]!.nodes;
    assert.equal(model.ssh.user, 'root');
    assert.equal(a.sshHost, 'db-01.example');
    assert.equal(a.sshPort, 22);
    assert.equal(b.sshPort, 2200);
    assert.equal(a.sshIdentity, undefined);
    assert.equal(model.ssh.identity, '/keys/id');
    // ProxyJump has no inventory counterpart: it still applies.
    assert.equal(a.sshJump?.length, 1);
  });

  it('without ssh.config: the defaults, direct connections', async () => {
    const model = await parseInventory(stringify(validInventory()), FILE, ENV);
    const a = model.pairs[0]!.nodes[0];
    assert.deepEqual([model.ssh.user, model.ssh.port, a.sshHost, a.sshPort, a.sshJump, a.sshIdentity], ['root', 22, '192.0.2.11', 22, undefined, undefined]);
  });

  it('refuses a config that gives the nodes different users, a missing file, and bad lines (with the config file and line)', async () => {
    const inv = validInventory();
    inv.ssh = { config: sshConfig('Host db-01\n  User alice\nHost db-02\n  User bob\n') };
    const [users] = await issuesOf(inv);
    assert.equal(users!.path, 'ssh.config');
    assert.match(users!.message, /different login users \(db-01: alice, db-02: bob\)/);
    assert.match(users!.hint!, /set ssh.user/);

    inv.ssh = { config: '/nonexistent/ssh_config' };
    const [missing] = await issuesOf(inv);
    assert.match(missing!.message, /cannot read the SSH client config \/nonexistent\/ssh_config \(ENOENT\)/);
    assert.equal(missing!.file, FILE);

    const bad = sshConfig('Host *\n  Port ssh\n');
    inv.ssh = { config: bad };
    const [port] = await issuesOf(inv);
    assert.deepEqual([port!.file, port!.line, port!.path], [bad, 2, 'ssh.config']);
    assert.match(port!.message, /Port ssh is not a port number/);
  });
});

describe('inventory: hooks and audit_log', () => {
  it('reads swap hooks with a default timeout, and the audit log path relative to the inventory', async () => {
    const inv = validInventory();
    inv.hooks = { pre_swap: { run: './drain.sh' }, post_swap: { run: 'notify', timeout: 5 }, post_failover: { run: '/usr/local/bin/page-oncall' } };
    inv.audit_log = 'logs/audit.jsonl';
    const model = await parseInventory(stringify(inv), FILE, ENV);
    assert.deepEqual(model.hooks, {
      preSwap: { run: './drain.sh', timeoutSeconds: 30 },
      postSwap: { run: 'notify', timeoutSeconds: 5 },
      postFailover: { run: '/usr/local/bin/page-oncall', timeoutSeconds: 30 },
    });
    assert.equal(model.auditLog, '/inv/logs/audit.jsonl');
    assert.match((await parseInventory(stringify(validInventory()), FILE, ENV)).auditLog, /\/\.duet\/log\/shop\.jsonl$/);
  });

  it('refuses an unknown hook and a timeout out of range', async () => {
    const inv = validInventory();
    inv.hooks = { pre_failover: { run: 'x' }, post_swap: { run: 'y', timeout: 0 } };
    const paths = (await issuesOf(inv)).map((i) => i.path).sort();
    assert.deepEqual(paths, ['hooks.post_swap.timeout', 'hooks.pre_failover']);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { InventoryError, type InventoryIssue } from '../../src/errors.ts';
import { loadInventory, parseInventory } from '../../src/inventory/load.ts';
import { Secret, redact } from '../../src/inventory/secret.ts';

const ENV = { DUET_REPL_PASSWORD: 'repl-s3cret', DUET_HA_KEY: 'ha-s3cret' };
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
    assert.equal(inv.mysql.replication.password.reveal(), 'repl-s3cret');
  });

  it('never shows a secret when printed or serialised', async () => {
    const inv = await parseInventory(stringify(validInventory()), FILE, ENV);
    const shown = JSON.stringify(inv) + String(inv.mysql.replication.password) + inspect(inv, { depth: 9 });
    assert.ok(!shown.includes('repl-s3cret') && !shown.includes('ha-s3cret'), shown);
  });

  it('reads file secrets relative to the inventory and drops one trailing newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-inv-'));
    writeFileSync(join(dir, 'repl'), 'from-file\n', { mode: 0o600 });
    const inv = validInventory();
    inv.mysql.replication.password = { file: 'repl' };
    writeFileSync(join(dir, 'inv.yml'), stringify(inv));
    const loaded = await loadInventory(join(dir, 'inv.yml'), ENV);
    assert.equal(loaded.mysql.replication.password.reveal(), 'from-file');
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
  { name: 'stonith_host on two lines', change: (i) => (i.pairs[0].failover.stonith_host = '* external/ssh db-01\nnode evil'), path: 'pairs[0].failover.stonith_host', message: 'stonith_host must be one line' },
  { name: 'initdead under twice deadtime', change: (i) => Object.assign(i.pairs[0].heartbeat, { deadtime: 30, initdead: 59 }), path: 'pairs[0].heartbeat.initdead', message: 'initdead 59 must be at least twice deadtime (60)' },
  { name: 'warntime outside keepalive..deadtime', change: (i) => Object.assign(i.pairs[0].heartbeat, { warntime: 40 }), path: 'pairs[0].heartbeat.warntime', message: 'warntime 40 must lie between keepalive 2 and deadtime 30' },
  { name: 'bad CIDR in ssh_from', change: (i) => (i.firewall = { ssh_from: ['10.0.0.0/33'] }), path: 'firewall.ssh_from[0]', message: '"10.0.0.0/33" is not an IPv4 address or CIDR' },
  { name: 'bad CIDR in mysql_from', change: (i) => (i.firewall = { mysql_from: ['app-server'] }), path: 'firewall.mysql_from[0]', message: '"app-server" is not an IPv4 address or CIDR' },
  { name: 'unset secret variable', change: () => {}, env: { DUET_HA_KEY: 'x' }, path: 'mysql.replication.password', message: 'environment variable DUET_REPL_PASSWORD is not set' },
  { name: 'missing secret file', change: (i) => (i.pairs[0].heartbeat.authkey = { file: '/nonexistent/ha' }), path: 'pairs[0].heartbeat.authkey', message: 'cannot read secret file /nonexistent/ha (ENOENT)' },
  { name: 'secret with both env and file', change: (i) => (i.pairs[0].heartbeat.authkey = { env: 'A', file: 'b' }), path: 'pairs[0].heartbeat.authkey', message: 'a secret needs exactly one of `env: VARIABLE` or `file: PATH`' },
  { name: 'managed option in settings', change: (i) => (i.mysql.settings = { server_id: 5 }), path: 'mysql.settings.server_id', message: 'server_id is managed by duet' },
  { name: 'bad option name in settings', change: (i) => (i.mysql.settings = { 'Bad Option': 1 }), path: 'mysql.settings.Bad Option', message: '"Bad Option" is not a server option name' },
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

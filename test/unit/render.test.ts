// Rendering: golden files for every node of the sample fleet (what users will see on their hosts),
// file metadata, and the engine's refusal to render a variable it was not given.
// UPDATE_GOLDEN=1 node --import tsx --test test/unit/render.test.ts rewrites the golden files.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RenderError } from '../../src/errors.ts';
import type { Inventory } from '../../src/inventory/model.ts';
import { Secret } from '../../src/inventory/secret.ts';
import { MANAGED_OPTIONS } from '../../src/inventory/validate.ts';
import { desiredFiles, renderInventory, type DesiredFile } from '../../src/render/desired.ts';
import { renderTemplate } from '../../src/render/engine.ts';
import { sampleInventory } from './helpers/sample-inventory.ts';

const goldenDir = fileURLToPath(new URL('./golden/', import.meta.url));
const rendered = renderInventory(sampleInventory());

/** golden/<node>/<absolute path on the host> for every rendered file. */
function goldenPath(nodeName: string, file: DesiredFile): string {
  return join(goldenDir, nodeName, file.path);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function byPath(files: DesiredFile[], path: string): DesiredFile {
  const file = files.find((f) => f.path === path);
  assert.ok(file, `no file ${path} among ${files.map((f) => f.path).join(', ')}`);
  return file;
}

/** The sample fleet's files for one node, or those of a variant of the sample inventory. */
function filesOf(nodeName: string, inv?: Inventory): DesiredFile[] {
  const files = (inv ? renderInventory(inv) : rendered).get(nodeName);
  assert.ok(files, `node ${nodeName} was not rendered`);
  return files;
}

describe('golden files', () => {
  if (process.env.UPDATE_GOLDEN === '1') {
    rmSync(goldenDir, { recursive: true, force: true });
    for (const [nodeName, files] of rendered) {
      for (const file of files) {
        mkdirSync(dirname(goldenPath(nodeName, file)), { recursive: true });
        writeFileSync(goldenPath(nodeName, file), file.content);
      }
    }
  }

  for (const [nodeName, files] of rendered) {
    for (const file of files) {
      test(`${nodeName} ${file.path}`, () => {
        assert.equal(file.content, readFileSync(goldenPath(nodeName, file), 'utf8'));
      });
    }
  }

  test('no golden file is left over from a file duet no longer renders', () => {
    const expected = [...rendered].flatMap(([nodeName, files]) => files.map((f) => goldenPath(nodeName, f)));
    assert.deepEqual(listFiles(goldenDir).sort(), expected.sort(), `stale files under ${relative(process.cwd(), goldenDir)}`);
  });
});

describe('file metadata', () => {
  test('paths, owners, modes, services and checks', () => {
    const summary = filesOf('db-01').map((f) => `${f.path} ${f.owner}:${f.group} ${f.mode.toString(8)} ${f.service} ${f.check ?? '-'}`);
    assert.deepEqual(summary, [
      '/etc/mysql/mariadb.conf.d/60-duet.cnf root:root 644 mysql mysqld-options',
      '/etc/iptables.rules root:root 640 firewall iptables-restore',
      '/etc/ip6tables.rules root:root 640 firewall ip6tables-restore',
      '/etc/network/if-pre-up.d/duet-iptables root:root 755 firewall -',
      '/etc/ha.d/ha.cf root:root 644 heartbeat -',
      '/etc/ha.d/haresources root:root 644 heartbeat -',
      '/etc/ha.d/authkeys root:root 600 heartbeat -',
      '/etc/ha.d/duet-fence.cnf root:root 600 heartbeat -',
      '/etc/ha.d/resource.d/duet-writer root:root 755 heartbeat -',
      '/etc/ha.d/duet-monitor root:root 755 heartbeat -',
      '/etc/duet/writer-agent root:root 755 agent -',
      '/etc/init.d/duet-agent root:root 755 agent -',
    ]);
    const lb = filesOf('lb-01').map((f) => `${f.path} ${f.owner}:${f.group} ${f.mode.toString(8)} ${f.service} ${f.check ?? '-'}`);
    assert.deepEqual(lb, [
      '/etc/haproxy/haproxy.cfg root:root 644 haproxy haproxy',
      '/etc/iptables.rules root:root 640 firewall iptables-restore',
      '/etc/ip6tables.rules root:root 640 firewall ip6tables-restore',
      '/etc/network/if-pre-up.d/duet-iptables root:root 755 firewall -',
      '/etc/ha.d/ha.cf root:root 644 heartbeat -',
      '/etc/ha.d/haresources root:root 644 heartbeat -',
      '/etc/ha.d/authkeys root:root 600 heartbeat -',
    ]);
    assert.equal(filesOf('db-03').filter((f) => f.service === 'agent').length, 0, 'no agent on a pair without load balancers');
  });

  test('only authkeys and the fence login are marked secret, and no other file holds a secret value', () => {
    const inv = sampleInventory();
    for (const [nodeName, files] of rendered) {
      for (const file of files) {
        const leaked = inv.secrets.filter((s) => file.content.includes(s.reveal())).map((s) => s.source);
        assert.equal(file.secret, ['/etc/ha.d/authkeys', '/etc/ha.d/duet-fence.cnf'].includes(file.path), `${nodeName} ${file.path}`);
        assert.deepEqual(leaked.length > 0, file.secret, `${nodeName} ${file.path} holds ${leaked.join(', ')}`);
      }
    }
  });

  test('the Heartbeat files are identical on both nodes of a pair', () => {
    for (const [a, b] of [['db-01', 'db-02'], ['db-03', 'db-04'], ['lb-01', 'lb-02']] as const) {
      for (const path of ['/etc/ha.d/ha.cf', '/etc/ha.d/haresources', '/etc/ha.d/authkeys', ...(a.startsWith('lb') ? ['/etc/haproxy/haproxy.cfg'] : ['/etc/ha.d/duet-fence.cnf'])]) {
        assert.equal(byPath(filesOf(a), path).content, byPath(filesOf(b), path).content, `${path} on ${a} and ${b}`);
      }
    }
  });
});

describe('inventory options', () => {
  test('firewall.manage false renders no firewall files', () => {
    const inv = sampleInventory();
    inv.firewall.manage = false;
    assert.deepEqual(filesOf('db-01', inv).filter((f) => f.service === 'firewall'), []);
  });

  test('flavor mysql: its conf.d, MySQL 8 GTID options and binlog expiry in seconds', () => {
    const inv = sampleInventory();
    inv.mysql.flavor = 'mysql';
    const cnf = byPath(filesOf('db-02', inv), '/etc/mysql/mysql.conf.d/60-duet.cnf').content;
    assert.match(cnf, /^gtid_mode = ON\nenforce_gtid_consistency = ON$/m);
    assert.match(cnf, /^binlog_expire_logs_seconds = 864000$/m);
    assert.match(cnf, /^log_replica_updates = ON$/m);
    assert.doesNotMatch(cnf, /gtid_domain_id|^expire_logs_days|log_slave_updates/m);
  });

  test('both flavors resolve no host names at login (accounts are granted by address)', () => {
    for (const flavor of ['mariadb', 'mysql'] as const) {
      const inv = sampleInventory();
      inv.mysql.flavor = flavor;
      const cnf = filesOf('db-01', inv).find((f) => f.service === 'mysql');
      assert.match(cnf?.content ?? '', /^skip_name_resolve = ON$/m, flavor);
    }
  });

  test('no databases listed: no binlog_do_db at all, so everything (duet schema included) replicates', () => {
    const inv = sampleInventory();
    inv.mysql.databases = [];
    assert.doesNotMatch(byPath(filesOf('db-01', inv), '/etc/mysql/mariadb.conf.d/60-duet.cnf').content, /binlog_do_db/);
  });

  test('the duet schema is listed once even when the inventory names it', () => {
    const inv = sampleInventory();
    inv.mysql.databases = ['duet', 'shop'];
    const cnf = byPath(filesOf('db-01', inv), '/etc/mysql/mariadb.conf.d/60-duet.cnf').content;
    assert.deepEqual(cnf.match(/^binlog_do_db = .*$/gm), ['binlog_do_db = duet', 'binlog_do_db = shop']);
  });

  // The inventory refuses mysql.settings that would fight the rendered file; that list must name
  // every option the template writes, or a setting could silently override it (e.g. read_only).
  for (const flavor of ['mariadb', 'mysql'] as const) {
    test(`every option my.cnf sets for ${flavor} is one the inventory refuses in mysql.settings`, () => {
      const inv = sampleInventory();
      inv.mysql.flavor = flavor;
      const cnf = filesOf('db-01', inv).find((f) => f.service === 'mysql');
      assert.ok(cnf);
      const extra = new Set(inv.mysql.settings.map(([name]) => name));
      const written = [...cnf.content.matchAll(/^(\w+) = /gm)].map((m) => m[1] ?? '').filter((name) => !extra.has(name));
      assert.deepEqual(written.filter((name) => !MANAGED_OPTIONS.has(name)), []);
    });
  }

  test('a node from another pair is refused', () => {
    const inv = sampleInventory();
    const [main, shard2] = inv.pairs;
    assert.ok(main && shard2);
    assert.throws(() => desiredFiles(inv, main, shard2.nodes[0]), (err) => err instanceof RenderError && /db-03 is not in pair main/.test(err.message));
  });
});

describe('strict rendering', () => {
  const header = { managedFor: 'cluster test, pair p' };

  function rendersError(context: Parameters<typeof renderTemplate>[1], template: string, message: RegExp): void {
    assert.throws(
      () => renderTemplate(template, context),
      (err) => err instanceof RenderError && err.message.includes(`templates/${template}.hbs`) && message.test(err.message),
    );
  }

  test('a variable the context lacks throws RenderError naming the template and the variable', () => {
    rendersError(header, 'authkeys', /authkeys\.hbs:\d+:\d+: template uses "authkey"/);
  });

  test('a missing variable inside the shared header names the header partial', () => {
    assert.throws(
      () => renderTemplate('authkeys', { authkey: 'k' }),
      (err) => err instanceof RenderError && /header\.partial\.hbs:1:\d+: template uses "managedFor"/.test(err.message),
    );
  });

  test('a missing list given to #each throws instead of rendering no lines', () => {
    const haCf = { ...header, keepalive: 2, warntime: 10, deadtime: 30, initdead: 120, udpport: 694, interface: 'eth0', autoFailback: 'off' };
    rendersError(haCf, 'ha.cf', /template uses "nodeNames"/);
  });

  test('a missing flag given to #if throws instead of taking the else branch', () => {
    rendersError(
      {
        ...header, serverId: 1, nodeName: 'n', expireLogsDays: 1, expireLogsSeconds: 86400, maxBinlogSize: '1M', replicatedDatabases: [],
        ignoredDatabases: [], autoIncrementIncrement: 2, autoIncrementOffset: 1, gtidDomainId: 1, settings: [],
      },
      'my.cnf',
      /template uses "mariadb"/,
    );
  });

  test('an undefined value or an unrevealed Secret in the context is refused before rendering', () => {
    rendersError({ ...header, authkey: undefined } as never, 'authkeys', /context\.authkey is undefined/);
    rendersError({ ...header, authkey: new Secret('k', 'env K') } as never, 'authkeys', /context\.authkey is an instance of Secret/);
  });
});

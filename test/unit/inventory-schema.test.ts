// inventory/schema.json (for editors): up to date with the zod schema, accepting the repository's
// inventories and rejecting the broken shapes the loader rejects.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { InventoryError } from '../../src/errors.ts';
import { inventoryJsonSchema, inventoryJsonSchemaText, SCHEMA_FILE } from '../../src/inventory/json-schema.ts';
import { parseInventory } from '../../src/inventory/load.ts';
import { checkJsonSchema } from './helpers/json-schema-check.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const schema = inventoryJsonSchema();

/** inventory/example.yml as plain data; each case below breaks its shape. */
function validInventory(): any {
  return parse(readFileSync(join(repo, 'inventory/example.yml'), 'utf8'));
}

const node = (inv: any, n: number) => inv.pairs[0].nodes[n];

/** Broken inventories whose fault is in the shape, so a schema can catch them (the rest is validate.ts's). */
const broken: Array<{ name: string; change: (inv: any) => void }> = [
  { name: 'unknown top-level key', change: (i) => (i.clustr = 'x') },
  { name: 'unknown nested key', change: (i) => (node(i, 1).serverid = 3) },
  { name: 'missing required field', change: (i) => delete i.cluster },
  { name: 'missing replication password', change: (i) => delete i.mysql.replication.password },
  { name: 'wrong type', change: (i) => (node(i, 0).server_id = 'one') },
  { name: 'fractional server_id', change: (i) => (node(i, 0).server_id = 1.5) },
  { name: 'bad node name', change: (i) => (node(i, 1).name = 'db_02!') },
  { name: 'bad cluster name', change: (i) => (i.cluster = 'my shop') },
  { name: 'unknown flavor', change: (i) => (i.mysql.flavor = 'postgres') },
  { name: 'port out of range', change: (i) => (i.ssh = { port: 70000 }) },
  { name: 'connect_timeout zero', change: (i) => (i.ssh = { connect_timeout: 0 }) },
  { name: 'bad binlog size', change: (i) => (i.mysql.max_binlog_size = '1T') },
  { name: 'secret with both env and file', change: (i) => (i.pairs[0].heartbeat.authkey = { env: 'A', file: 'b' }) },
  { name: 'secret with neither env nor file', change: (i) => (i.pairs[0].heartbeat.authkey = {}) },
  { name: 'no pairs', change: (i) => (i.pairs = []) },
  { name: 'a setting that is a list', change: (i) => (i.mysql.settings = { innodb_buffer_pool_size: ['1G'] }) },
];

describe('inventory/schema.json', () => {
  it(`is up to date (regenerate with npm run schema)`, () => {
    assert.equal(readFileSync(join(repo, SCHEMA_FILE), 'utf8'), inventoryJsonSchemaText(), `${SCHEMA_FILE} is stale: run npm run schema`);
  });

  for (const file of ['inventory/example.yml', 'inventory/fixtures.yml', 'inventory/fixtures-lb.yml']) {
    it(`accepts ${file}, which refers to it for editors`, () => {
      const text = readFileSync(join(repo, file), 'utf8');
      assert.match(text, /^# yaml-language-server: \$schema=\.\/schema\.json$/m);
      assert.deepEqual(checkJsonSchema(schema, parse(text)), []);
    });
  }

  it('inventory/fixtures-lb.yml is inventory/fixtures.yml plus the load balancer tier', () => {
    const [pair, withTier] = ['inventory/fixtures.yml', 'inventory/fixtures-lb.yml'].map((file) => parse(readFileSync(join(repo, file), 'utf8')));
    assert.ok(withTier.pairs[0].load_balancers, 'fixtures-lb.yml has a tier');
    delete withTier.pairs[0].load_balancers;
    assert.deepEqual(withTier, pair);
  });

  for (const c of broken) {
    it(`rejects ${c.name}, as the loader does`, async () => {
      const inv = validInventory();
      c.change(inv);
      assert.notDeepEqual(checkJsonSchema(schema, inv), [], 'the schema accepted it');
      await assert.rejects(parseInventory(stringify(inv), '/inv/test.yml', { DUET_REPL_PASSWORD: 'r', DUET_HA_KEY: 'h' }), InventoryError);
    });
  }
});

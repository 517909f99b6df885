// provision with data already on the nodes: copied to an empty peer, refused when both differ.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { duet, REPO_ROOT } from './helpers/cli.ts';
import { useFixtures } from './helpers/fixtures.ts';

const fx = useFixtures({ hosts: 'db1,db2' });
const INVENTORY = join(REPO_ROOT, 'inventory/fixtures.yml');

async function sql(host: string, statement: string): Promise<string> {
  const result = await fx.ssh(host, `mariadb -Nse ${JSON.stringify(statement)}`);
  assert.equal(result.code, 0, `${host}: ${statement}: ${result.stderr}`);
  return result.stdout;
}

async function eventually(host: string, statement: string, want: string): Promise<void> {
  let got = '';
  for (let i = 0; i < 50 && got !== want; i++) {
    got = await sql(host, statement);
    if (got !== want) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(got, want, `${host}: ${statement}`);
}

describe('provision with existing data', () => {
  it('refuses when both nodes hold different data, and changes nothing', async () => {
    await sql('db1', "CREATE DATABASE app; CREATE TABLE app.orders (id INT PRIMARY KEY, item VARCHAR(20)); INSERT INTO app.orders VALUES (1, 'tea'), (2, 'cake')");
    await sql('db2', "CREATE DATABASE app; CREATE TABLE app.orders (id INT PRIMARY KEY, item VARCHAR(20)); INSERT INTO app.orders VALUES (1, 'coffee')");
    const result = await duet('provision', [INVENTORY, '--yes']);
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, /both db1 and db2 hold data, and it differs \(app\.orders\); nothing was changed/);
    for (const host of ['db1', 'db2']) {
      assert.equal((await fx.ssh(host, 'test -e /etc/mysql/mariadb.conf.d/60-duet.cnf')).code, 1, `${host} was changed`);
    }
    assert.equal(await sql('db2', 'SELECT item FROM app.orders'), 'coffee\n', 'nothing was overwritten');
  });

  it('copies the data of one node to its empty peer, then replicates both ways', async () => {
    await sql('db2', 'DROP DATABASE app'); // the operator resolves the conflict, as the hint says
    const result = await duet('provision', [INVENTORY, '--yes']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /copy app from db1 to db2 \(db2 holds none\), and replicate from the copy.s GTID position: at GTID /);
    assert.equal(await sql('db2', 'SELECT id, item FROM app.orders ORDER BY id'), '1\ttea\n2\tcake\n');

    // Replication continues exactly after the copy: no duplicate-key error, rows flow both ways.
    await sql('db1', "INSERT INTO app.orders VALUES (3, 'scone')");
    await sql('db2', "INSERT INTO app.orders VALUES (4, 'jam')");
    for (const host of ['db1', 'db2']) await eventually(host, 'SELECT GROUP_CONCAT(id ORDER BY id) FROM app.orders', '1,2,3,4\n');
    for (const host of ['db1', 'db2']) {
      const status = (await fx.ssh(host, "mariadb -e 'SHOW SLAVE STATUS\\G'")).stdout;
      assert.match(status, /Slave_IO_Running: Yes/);
      assert.match(status, /Slave_SQL_Running: Yes/);
      assert.match(status, /Last_SQL_Errno: 0/);
    }
  });
});

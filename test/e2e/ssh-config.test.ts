// ssh.config with ProxyJump, for real: db2 accepts SSH only from app1 (an iptables rule inside db2),
// and duet still reaches it through app1 as the bastion, host keys checked on both hops.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { TransportError } from '../../src/errors.ts';
import { SECRET_FILES, statePath } from '../../src/fixtures/index.ts';
import { loadInventory } from '../../src/inventory/load.ts';
import type { Inventory } from '../../src/inventory/model.ts';
import type { PairStatus } from '../../src/ops/status.ts';
import { HostPool } from '../../src/transport/pool.ts';
import { duet, REPO_ROOT } from './helpers/cli.ts';
import { useFixtures } from './helpers/fixtures.ts';

const fx = useFixtures();
const dir = mkdtempSync(join(tmpdir(), 'duet-sshconfig-e2e-'));

/** inventory/fixtures.yml with absolute secret paths and ssh settings from `ssh` only. */
function inventory(name: string, ssh: Record<string, unknown>): string {
  const inv = parse(readFileSync(join(REPO_ROOT, 'inventory/fixtures.yml'), 'utf8'));
  inv.ssh = { connect_timeout: 3, ...ssh };
  inv.mysql.replication.password = { file: join(fx.stateDir, 'secrets', SECRET_FILES.replPassword) };
  inv.pairs[0].heartbeat.authkey = { file: join(fx.stateDir, 'secrets', SECRET_FILES.haAuthkey) };
  const path = join(dir, name);
  writeFileSync(path, stringify(inv));
  return path;
}

async function runOn(inv: Inventory, node: string, command: string): Promise<string> {
  const pool = new HostPool(inv.ssh);
  try {
    const spec = inv.pairs[0]!.nodes.find((n) => n.name === node)!;
    return (await (await pool.get(spec)).run(command)).stdout;
  } finally {
    await pool.closeAll();
  }
}

describe('ssh.config ProxyJump through a fixture host', () => {
  let viaApp1: string;
  before(async () => {
    // Only app1 may open SSH to db2; this machine's namespace (198.18.0.1) gets a reset.
    const rule = ['INPUT', '-p', 'tcp', '--dport', '22', '!', '-s', fx.address('app1'), '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    const added = await fx.exec('db2', ['iptables', '-A', ...rule]);
    assert.equal(added.code, 0, added.stderr);
    // The fixtures' own ssh_config (Host db2 -> HostName, Host * -> User, IdentityFile), db2 behind app1.
    writeFileSync(join(dir, 'ssh_config'), `Host db2\n  ProxyJump app1\n\n${readFileSync(fx.sshConfigPath, 'utf8')}`);
    viaApp1 = inventory('via-app1.yml', { config: join(dir, 'ssh_config'), known_hosts: statePath(fx.stateDir, 'knownHosts') });
  });

  it('direct SSH to db2 is blocked', async () => {
    const direct = await loadInventory(inventory('direct.yml', { identity: statePath(fx.stateDir, 'clientKey'), known_hosts: statePath(fx.stateDir, 'knownHosts') }));
    await assert.rejects(runOn(direct, 'db2', 'true'), (err: unknown) => err instanceof TransportError && /refused|closed the connection/.test(err.message));
  });

  it('duet reaches db2 through app1: sshd on db2 sees app1 as the client', async () => {
    const inv = await loadInventory(viaApp1);
    assert.deepEqual(inv.pairs[0]!.nodes[1]!.sshJump?.map((h) => `${h.user}@${h.host}:${h.port}`), [`root@${fx.address('app1')}:22`]);
    const [client, name] = (await runOn(inv, 'db2', 'echo "$SSH_CONNECTION"; uname -n')).trim().split('\n');
    assert.equal(client!.split(' ')[0], fx.address('app1'));
    assert.equal(name, 'db2');
    // db1 has no ProxyJump: a direct connection from this machine.
    assert.equal((await runOn(inv, 'db1', 'echo "$SSH_CONNECTION"')).split(' ')[0], '198.18.0.1');
  });

  it('status reads both nodes, MySQL on db2 through the jump host', async () => {
    const result = await duet('status', [viaApp1, '--json'], { timeoutMs: 60_000 });
    // A bare pair warns (no replication, no Heartbeat): exit 1, never 3.
    assert.equal(result.code, 1, result.stderr);
    const [pair] = (JSON.parse(result.stdout) as { pairs: PairStatus[] }).pairs;
    const db2 = pair!.nodes.find((n) => n.node === 'db2')!;
    assert.equal(db2.unreachable, undefined);
    assert.equal(db2.mysqlRunning, true);
    assert.equal(db2.writable, true, 'a bare MariaDB is writable: MySQL answered through app1');
  });

  it("the jump host's key is checked too: app1 missing from known_hosts is refused, naming it", async () => {
    const known = readFileSync(statePath(fx.stateDir, 'knownHosts'), 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith(`${fx.address('app1')},`))
      .join('\n');
    writeFileSync(join(dir, 'known_hosts_without_app1'), known);
    const inv = await loadInventory(inventory('no-app1-key.yml', { config: join(dir, 'ssh_config'), known_hosts: join(dir, 'known_hosts_without_app1') }));
    await assert.rejects(runOn(inv, 'db2', 'true'), (err: unknown) => {
      assert.ok(err instanceof TransportError, String(err));
      assert.match(err.message, /^the jump host app1 \(198\.18\.0\.13:22\): host key of 198\.18\.0\.13:22 is not trusted/);
      assert.match(err.hint ?? '', /ssh-keyscan -p 22 198\.18\.0\.13 >> /);
      return true;
    });
  });
});

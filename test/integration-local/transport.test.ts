// SshConnection against a private sshd on 127.0.0.1 (see daemons.ts). Run:
//   node --import tsx --test test/integration-local/transport.test.ts
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransportError } from '../../src/errors.ts';
import type { SshSettings } from '../../src/inventory/model.ts';
import { HostPool } from '../../src/transport/pool.ts';
import { SshConnection, type SshTarget } from '../../src/transport/ssh.ts';
import { freePort, startSshd, tempDir, type SshdHandle } from './daemons.ts';

const dir = tempDir();
let sshd: SshdHandle;
let settings: SshSettings;
let target: SshTarget;

before(async () => {
  sshd = await startSshd(dir.path);
  settings = { user: 'root', port: sshd.port, identity: sshd.identity, knownHosts: sshd.knownHosts, sudo: false, connectTimeoutSeconds: 5 };
  target = { name: 'local', host: '127.0.0.1', port: sshd.port };
});

after(async () => {
  await sshd?.stop();
  dir.remove();
});

async function refusal(promise: Promise<unknown>): Promise<TransportError> {
  const err = await promise.then(
    () => assert.fail('expected a TransportError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TransportError, String(err));
  return err;
}

test('exec returns status and output; stdin carries data that never appears in the command', async () => {
  const ssh = await SshConnection.connect(target, settings);
  try {
    assert.deepEqual(await ssh.exec('echo out; echo err >&2; exit 3'), { code: 3, stdout: 'out\n', stderr: 'err\n' });
    const secret = "s3cr'et $(x)";
    const { stdout } = await ssh.run('cat', { stdin: secret });
    assert.equal(stdout, secret);
    // The connection is reused: many commands, concurrently, one session.
    const outputs = await Promise.all([1, 2, 3, 4, 5].map((n) => ssh.run(`echo ${n}`)));
    assert.deepEqual(outputs.map((o) => o.stdout.trim()), ['1', '2', '3', '4', '5']);
  } finally {
    await ssh.close();
  }
});

test('run throws with the host, the first command line and the stderr tail', async () => {
  const ssh = await SshConnection.connect(target, settings);
  try {
    const err = await refusal(ssh.run('ls /nonexistent-dir\necho done >&2\nexit 2'));
    assert.equal(err.host, 'local');
    assert.match(err.message, /`ls \/nonexistent-dir \.\.\.` exited with status 2: ls: .*No such file or directory \| done$/);
    const slow = await refusal(ssh.exec('sleep 5', { timeoutMs: 200 }));
    assert.match(slow.message, /did not finish within 200 ms/);
  } finally {
    await ssh.close();
  }
});

test('a pinned key replaces known_hosts; a wrong pinned key is refused as a possible MITM', async () => {
  const pinned = await SshConnection.connect(target, { ...settings, knownHosts: join(dir.path, 'missing') }, sshd.hostKey);
  await pinned.close();
  const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFZ9I4WXXDARij+fHP9KGeosJUMJ+LBwDVIk+kwiYZLO';
  const err = await refusal(SshConnection.connect(target, settings, other));
  assert.match(err.message, /does not match the key pinned in the inventory; presented SHA256:/);
  // known_hosts still revokes a pinned key.
  const revoking = join(dir.path, 'revoking_known_hosts');
  writeFileSync(revoking, `@revoked * ${sshd.hostKey}\n`);
  const revoked = await refusal(SshConnection.connect(target, { ...settings, knownHosts: revoking }, sshd.hostKey));
  assert.match(revoked.message, /is revoked \(.*revoking_known_hosts line 1\)/);
});

test('unknown and changed host keys are refused with a hint to fix known_hosts', async () => {
  const empty = join(dir.path, 'empty_known_hosts');
  writeFileSync(empty, '');
  const unknown = await refusal(SshConnection.connect(target, { ...settings, knownHosts: empty }));
  assert.match(unknown.message, /is not trusted/);
  assert.match(unknown.hint ?? '', new RegExp(`ssh-keyscan -p ${sshd.port} 127\\.0\\.0\\.1 >> ${empty}`));

  const changed = join(dir.path, 'changed_known_hosts');
  writeFileSync(changed, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFZ9I4WXXDARij+fHP9KGeosJUMJ+LBwDVIk+kwiYZLO\n`);
  const mitm = await refusal(SshConnection.connect(target, { ...settings, knownHosts: changed }));
  assert.match(mitm.message, /has CHANGED/);
  assert.match(mitm.hint ?? '', /ssh-keygen -R '\[127\.0\.0\.1\]:\d+'/);
});

test('refused port, wrong key and timeouts are one clear sentence each', async () => {
  const closedPort = await freePort();
  const refused = await refusal(SshConnection.connect({ ...target, port: closedPort }, settings));
  assert.equal(refused.message, `SSH connection to 127.0.0.1:${closedPort} was refused`);

  const wrongKey = await refusal(SshConnection.connect(target, { ...settings, identity: join(dir.path, 'sshd', 'host_ed25519') }));
  assert.match(wrongKey.message, /^SSH login as root to 127\.0\.0\.1:\d+ was rejected with the key /);

  const noAgent = await refusal(SshConnection.connect(target, { ...settings, identity: undefined }));
  assert.match(noAgent.message, /SSH_AUTH_SOCK/);
});

test('streamLocal reaches a unix socket on the host; a missing socket is a TransportError', async () => {
  const ssh = await SshConnection.connect(target, settings);
  try {
    const err = await refusal(ssh.streamLocal(join(dir.path, 'no.sock')));
    assert.match(err.message, /cannot open .*no\.sock over SSH/);
  } finally {
    await ssh.close();
  }
  await refusal(ssh.exec('true'));
});

test('HostPool connects once per node and reconnects after a loss', async () => {
  const pool = new HostPool(settings);
  const node = { name: 'local', address: '127.0.0.1', serverId: 1, preferred: true, autoIncrementOffset: 1, gtidDomainId: 1, sshHost: '127.0.0.1', sshPort: sshd.port, hostKey: undefined };
  const [a, b] = await Promise.all([pool.get(node), pool.get(node)]);
  assert.equal(a, b);
  await a.close();
  const c = await pool.get(node);
  assert.notEqual(c, a);
  assert.equal((await c.run('echo again')).stdout, 'again\n');
  await pool.closeAll();
  assert.ok(c.closed);
});

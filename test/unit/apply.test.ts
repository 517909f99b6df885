// apply.ts against a fake SSH connection that records every command: how secret files are backed
// up, put back and cleaned up, so no old key outlives the apply and none is ever readable by others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '../../src/errors.ts';
import type { HostFacts } from '../../src/plan/facts.ts';
import type { FileChange, HostPlan, Service } from '../../src/plan/plan.ts';
import type { DesiredFile } from '../../src/render/desired.ts';
import { applyHostPlan } from '../../src/ops/apply.ts';
import { backupCommand, installScript, parseInstalled, removeSecretBackupsCommand, restoreCommand, stageScript, stagingPath } from '../../src/ops/services.ts';
import type { SshConnection } from '../../src/transport/ssh.ts';

const authkeys: DesiredFile = { path: '/etc/ha.d/authkeys', content: 'auth 1\n1 sha1 new-key\n', mode: 0o600, owner: 'root', group: 'root', service: 'heartbeat', secret: true };
const haCf: DesiredFile = { path: '/etc/ha.d/ha.cf', content: 'keepalive 2\n', mode: 0o644, owner: 'root', group: 'root', service: 'heartbeat', secret: false };

function update(file: DesiredFile): FileChange {
  return { file, action: 'update', contentChanged: true, metadataChanged: false, diff: '', reasons: ['content differs'] };
}

function plan(changes: FileChange[], services: Service[] = ['heartbeat']): HostPlan {
  return { host: 'db-01', changes, services, repairs: [] };
}

const facts = { initSystem: 'systemd', running: { mysql: true, heartbeat: true } } as HostFacts;

/** Records commands; `fail` decides which ones exit non-zero (run throws like SshConnection.run). */
function fakeSsh(fail: (command: string) => boolean = () => false): { ssh: SshConnection; commands: string[] } {
  const commands: string[] = [];
  const answer = (command: string) => ({ code: fail(command) ? 1 : 0, stdout: '', stderr: '' });
  // A script of several lines (installScript): each command recorded and run in turn, `echo` lines
  // printed, stopping at the first failure as `|| exit 1` does.
  const script = (text: string) => {
    const stdout: string[] = [];
    for (const line of text.split('\n')) {
      const echo = /^echo (.*)$/.exec(line);
      if (echo) {
        stdout.push(echo[1]!);
        continue;
      }
      const command = line.replace(/ \|\| exit 1$/, '');
      commands.push(command);
      if (fail(command)) return { code: 1, stdout: stdout.join('\n'), stderr: '' };
    }
    return { code: 0, stdout: stdout.join('\n'), stderr: '' };
  };
  const ssh = {
    target: { name: 'db-01', host: '192.0.2.11', port: 22 },
    async exec(command: string) {
      if (command.includes('\n')) return script(command);
      commands.push(command);
      return answer(command);
    },
    async run(command: string) {
      commands.push(command);
      const result = answer(command);
      if (result.code !== 0) throw new TransportError(`\`${command.slice(0, 40)}\` exited 1`, { host: 'db-01' });
      return result;
    },
  } as unknown as SshConnection;
  return { ssh, commands };
}

test('a secret file is backed up root-only, an ordinary one with its own mode', () => {
  assert.equal(backupCommand(authkeys), 'rm -f /etc/ha.d/authkeys.duet-bak && (umask 077 && cp /etc/ha.d/authkeys /etc/ha.d/authkeys.duet-bak) && chmod 600 /etc/ha.d/authkeys.duet-bak');
  assert.equal(backupCommand(haCf), 'cp -p /etc/ha.d/ha.cf /etc/ha.d/ha.cf.duet-bak');
  // Restoring a secret copies into the live (0600) file, keeping its mode; an ordinary file gets its old one back.
  assert.equal(restoreCommand(authkeys), 'cp /etc/ha.d/authkeys.duet-bak /etc/ha.d/authkeys');
  assert.equal(restoreCommand(haCf), 'cp -p /etc/ha.d/ha.cf.duet-bak /etc/ha.d/ha.cf');
  assert.equal(removeSecretBackupsCommand([haCf, authkeys]), 'rm -f /etc/ha.d/authkeys.duet-bak');
  assert.equal(removeSecretBackupsCommand([haCf]), undefined);
});

test('after a successful apply the old key is deleted; other backups stay', async () => {
  const { ssh, commands } = fakeSsh();
  const result = await applyHostPlan(plan([update(haCf), update(authkeys)]), { ssh, facts, flavor: 'mariadb', log: () => {} });
  assert.deepEqual(result.servicesRun, ['systemctl reload heartbeat']);
  const backup = commands.findIndex((c) => c.startsWith(backupCommand(authkeys)));
  const reload = commands.findIndex((c) => c.includes('systemctl reload heartbeat'));
  assert.ok(backup >= 0 && reload > backup, commands.join('\n'));
  assert.equal(commands.at(-1), 'rm -f /etc/ha.d/authkeys.duet-bak');
  assert.ok(!commands.some((c) => c.includes('rm -f /etc/ha.d/ha.cf.duet-bak')));
});

test('a failed service: the old key is put back first, then its backup is deleted', async () => {
  const { ssh, commands } = fakeSsh((c) => c.includes('reload heartbeat') && !commands.some((x) => x === restoreCommand(authkeys)));
  await assert.rejects(applyHostPlan(plan([update(authkeys)]), { ssh, facts, flavor: 'mariadb', log: () => {} }), /heartbeat failed with the new configuration; the previous files are back and it runs again/);
  const restore = commands.indexOf(restoreCommand(authkeys));
  const cleanup = commands.indexOf('rm -f /etc/ha.d/authkeys.duet-bak');
  assert.ok(restore >= 0 && cleanup > restore, commands.join('\n'));
});

test('a failed install: files put back, then the old key deleted', async () => {
  const { ssh, commands } = fakeSsh((c) => c.startsWith('cp -p /etc/ha.d/ha.cf '));
  await assert.rejects(applyHostPlan(plan([update(authkeys), update(haCf)]), { ssh, facts, flavor: 'mariadb', log: () => {} }), /installing files failed/);
  const restore = commands.indexOf(restoreCommand(authkeys));
  assert.ok(restore >= 0 && commands.indexOf('rm -f /etc/ha.d/authkeys.duet-bak') > restore, commands.join('\n'));
});

test('the stage script uploads every file, any bytes, with its mode, and no content on a command line', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, statSync, rmSync } = await import('node:fs');
  const { tmpdir, userInfo } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/duet-stage-`);
  try {
    const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    const owner = userInfo().username;
    const files = [
      { path: `${dir}/a/secret`, content: "key 'with quotes'\nDUET_STAGED_FILE\n$HOME `x`\n", mode: 0o600, owner, group },
      { path: `${dir}/b.conf`, content: 'é'.repeat(100), mode: 0o644, owner, group },
    ];
    const script = stageScript(files);
    assert.ok(!script.includes('with quotes'), 'content is encoded');
    execFileSync('sh', ['-s'], { input: script });
    for (const file of files) {
      const staged = stagingPath(file.path);
      assert.equal(readFileSync(staged, 'utf8'), file.content);
      assert.equal(statSync(staged).mode & 0o777, file.mode);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the install script says which files it put in place, and stops at the first failure', () => {
  const script = installScript([
    { file: haCf, backup: true, metadataOnly: false },
    { file: authkeys, backup: false, metadataOnly: true },
  ]);
  assert.equal(
    script,
    [
      "cp -p /etc/ha.d/ha.cf /etc/ha.d/ha.cf.duet-bak && mv -f /etc/ha.d/.ha.cf.duet-new /etc/ha.d/ha.cf || exit 1",
      'echo installed 0',
      'chown root:root /etc/ha.d/authkeys && chmod 600 /etc/ha.d/authkeys || exit 1',
      'echo installed 1',
    ].join('\n'),
  );
  assert.deepEqual(parseInstalled('installed 0\ninstalled 1\n'), [0, 1]);
  assert.deepEqual(parseInstalled('noise\ninstalled 0'), [0]);
});

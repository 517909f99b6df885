// Private throwaway daemons for proving the transport and MySQL layers against real software on
// this machine: an sshd and mariadbd instances living entirely in one temp dir, listening only on
// 127.0.0.1 (or on a unix socket), stopped by the PID we started. Never the machine's own services.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Daemon {
  stop(): Promise<void>;
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'duet-local-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A TCP port on 127.0.0.1 that is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(what: string, ready: () => boolean, child: ChildProcess, log: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${log()}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops exactly the process we spawned: SIGTERM, then SIGKILL after a bounded wait. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface SshdHandle extends Daemon {
  port: number;
  /** Private key authorized for root. */
  identity: string;
  /** known_hosts listing the daemon's host key as [127.0.0.1]:port. */
  knownHosts: string;
  /** The host key's public line ("ssh-ed25519 AAAA..."), for pinning. */
  hostKey: string;
}

export async function startSshd(dir: string): Promise<SshdHandle> {
  const base = join(dir, 'sshd');
  mkdirSync(base);
  const hostKeyFile = join(base, 'host_ed25519');
  const identity = join(base, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', hostKeyFile]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'duet-local', '-f', identity]);
  writeFileSync(join(base, 'authorized_keys'), readFileSync(`${identity}.pub`));
  const port = await freePort();
  const hostKey = readFileSync(`${hostKeyFile}.pub`, 'utf8').trim();
  const knownHosts = join(base, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`);
  const config = join(base, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKeyFile}`,
      `AuthorizedKeysFile ${join(base, 'authorized_keys')}`,
      `PidFile ${join(base, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The temp dir is not owned the way StrictModes wants for a home directory.
      'StrictModes no',
      'AllowStreamLocalForwarding yes',
      'AllowTcpForwarding yes',
      '',
    ].join('\n'),
  );
  // sshd insists on its compiled-in privilege separation directory; the distro's unit creates it.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  let log = '';
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor('sshd', () => log.includes('Server listening'), child, () => log);
  return { port, identity, knownHosts, hostKey, stop: () => stopChild(child) };
}

export interface MariadbHandle extends Daemon {
  socket: string;
  /** 127.0.0.1 port, when started with tcp (needed to be a replication source). */
  port: number | undefined;
}

/**
 * A private mariadbd with the Debian-style root account (unix_socket, password 'invalid').
 * `tcp` makes it listen on 127.0.0.1 too, so another private instance can replicate from it.
 */
export async function startMariadb(dir: string, name: string, opts: { serverId: number; tcp: boolean }): Promise<MariadbHandle> {
  const base = join(dir, name);
  const data = join(base, 'data');
  mkdirSync(base);
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=socket', '--user=root', '--skip-test-db'], {
    stdio: 'ignore',
  });
  const socket = join(base, 'mysqld.sock');
  const port = opts.tcp ? await freePort() : undefined;
  const args = [
    '--no-defaults',
    `--datadir=${data}`,
    `--socket=${socket}`,
    `--pid-file=${join(base, 'mysqld.pid')}`,
    `--log-error=${join(base, 'error.log')}`,
    '--user=root',
    `--server-id=${opts.serverId}`,
    `--gtid-domain-id=${opts.serverId}`,
    `--log-bin=${join(data, 'binlog')}`,
    '--log-slave-updates',
    '--innodb-buffer-pool-size=16M',
    ...(port === undefined ? ['--skip-networking'] : [`--bind-address=127.0.0.1`, `--port=${port}`]),
  ];
  const child = spawn('/usr/sbin/mariadbd', args, { stdio: 'ignore' });
  const log = (): string => (existsSync(join(base, 'error.log')) ? readFileSync(join(base, 'error.log'), 'utf8') : '');
  await waitFor(`mariadbd ${name}`, () => log().includes('ready for connections'), child, log, 20_000);
  return { socket, port, stop: () => stopChild(child) };
}

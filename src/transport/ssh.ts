// One SSH connection per host, reused for every command and every MySQL channel of a run.
import { readFile } from 'node:fs/promises';
import { Readable, type Duplex, type Writable } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { TransportError } from '../errors.ts';
import type { SshSettings } from '../inventory/model.ts';
import type { SshHop } from './ssh-config.ts';
import {
  hostKeyAlgorithms,
  hostKeyRefusal,
  parseKnownHosts,
  parsePinnedKey,
  pinnedTrust,
  verifyHostKey,
  type HostKeyVerdict,
  type KnownHostKey,
} from './known-hosts.ts';
import { trace, traceCommand } from '../trace.ts';
import { remoteCommand } from './shell.ts';

export interface SshTarget {
  /** Node name, used as the `host` of every error. */
  name: string;
  host: string;
  port: number;
  /** This host's private key (ssh.config's IdentityFile); undefined: settings.identity, else ssh-agent. */
  identity?: string | undefined;
  /** Hosts to connect through first, in order (ssh.config's ProxyJump). */
  jump?: readonly SshHop[] | undefined;
}

/** One hop of a connection: where, as whom, with which key, and the trust for its host key. */
interface Leg {
  host: string;
  port: number;
  user: string;
  identity: string | undefined;
  pinnedKey: string | undefined;
  /** For messages: "" for the target itself, "the jump host NAME (HOST:PORT)" for a hop. */
  via: string;
}

export interface ExecOptions {
  /** Sent on the command's stdin, then EOF. The only way secrets may reach a command. A stream is piped (large data). */
  stdin?: string | Buffer | Readable;
  /** Pipe stdout here instead of collecting it (ExecResult.stdout is then empty). */
  stdout?: Writable;
  /** Run through sudo (when the SSH user is not root). Defaults to settings.sudo. */
  sudo?: boolean;
  /** Abort the command (and reject) after this long. */
  timeoutMs?: number;
}

export interface ExecResult {
  /** Exit status; -1 when the command died from a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export class SshConnection {
  readonly target: SshTarget;
  readonly #client: Client;
  readonly #settings: SshSettings;
  /** The jump hosts' sessions this one runs through (ProxyJump), first hop first. */
  readonly #via: Client[];
  #closed = false;

  private constructor(client: Client, target: SshTarget, settings: SshSettings, via: Client[]) {
    this.#client = client;
    this.target = target;
    this.#settings = settings;
    this.#via = via;
    // ssh2 reports late socket errors (peer reset, keepalive timeout) as 'error' events; without a
    // listener Node would crash the process. The 'close' that follows is what callers observe.
    client.on('error', () => {});
    client.on('close', () => {
      this.#closed = true;
      // The jump hosts' sessions only carried this one.
      for (const hop of via) hop.end();
    });
  }

  /**
   * Connects and authenticates, trusting only a host key listed in settings.knownHosts (or equal to
   * pinnedKey, which replaces the file for this host). With target.jump, connects to each jump host
   * first (its host key checked against known_hosts the same way), opens a direct-tcpip channel from
   * it to the next host, and runs the next SSH session over that channel, as ssh's ProxyJump does.
   */
  static async connect(target: SshTarget, settings: SshSettings, pinnedKey?: string): Promise<SshConnection> {
    const hops = target.jump ?? [];
    const legs: Leg[] = [
      ...hops.map((hop) => ({
        host: hop.host,
        port: hop.port,
        user: hop.user,
        identity: hop.identity ?? settings.identity,
        pinnedKey: undefined,
        via: `the jump host ${hop.alias} (${hop.host}:${hop.port})`,
      })),
      { host: target.host, port: target.port, user: settings.user, identity: target.identity ?? settings.identity, pinnedKey, via: '' },
    ];
    const via: Client[] = [];
    let sock: Duplex | undefined;
    try {
      for (const [i, leg] of legs.entries()) {
        const client = await openClient(leg, target, settings, sock);
        const next = legs[i + 1];
        if (!next) return new SshConnection(client, target, settings, via);
        via.push(client);
        sock = await forwardTo(client, leg, next, target.name);
      }
    } catch (err) {
      for (const hop of via.reverse()) hop.end();
      throw err;
    }
    throw new Error('unreachable: a connection has at least one leg');
  }

  /** The SSH login user (the OS user the host sees for commands and forwarded sockets). */
  get user(): string {
    return this.#settings.user;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs a command and reports its exit status; only transport problems reject. */
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const line = remoteCommand(command, { user: this.#settings.user, sudo: opts.sudo ?? this.#settings.sudo });
    trace(() => traceCommand(this.target.name, command, opts.stdin !== undefined));
    let exit: number | undefined;
    const channel = await this.#open(`run \`${firstLine(command)}\``, (cb) =>
      this.#client.exec(line, (err, opened) => {
        // 'exit' carries (code) or (null, signalName) when the command was killed. Listened for here,
        // not after the await: a busy process can read the exec confirmation and a quick command's
        // exit status in one chunk, and ssh2 emits 'exit' before an awaiting caller resumes.
        opened?.on('exit', (code: number | null) => {
          exit = code ?? -1;
        });
        cb(err, opened);
      }),
    );
    return new Promise<ExecResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const collected = (): ExecResult => ({
        code: exit ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
      if (opts.stdout) channel.pipe(opts.stdout);
      else channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const timer =
        opts.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              // sshd answers our close only when the command ends, so reject now. No kill: ssh2 sends
              // signal requests only while stdin is open, and we closed it to deliver EOF.
              const message = `\`${firstLine(command)}\` did not finish within ${opts.timeoutMs} ms`;
              reject(this.#error(message, 'the command was abandoned and may still be running on the host', collected().stderr));
              channel.close();
            }, opts.timeoutMs);
      channel.on('close', () => {
        clearTimeout(timer);
        if (exit === undefined) reject(this.#error(`the SSH connection was lost while running \`${firstLine(command)}\``, undefined, collected().stderr));
        else resolve(collected());
      });
      if (opts.stdin instanceof Readable) opts.stdin.pipe(channel);
      else channel.end(opts.stdin);
    });
  }

  /** Like exec, but a non-zero exit status is a TransportError carrying the stderr tail. */
  async run(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.exec(command, opts);
    if (result.code !== 0) {
      throw this.#error(`\`${firstLine(command)}\` exited with status ${result.code}`, undefined, result.stderr);
    }
    return result;
  }

  /**
   * A byte stream to a unix socket on the host (sshd's direct-streamlocal), e.g. mysqld's socket.
   * The server sees sshd's session process, running as the SSH user, as its peer.
   */
  streamLocal(socketPath: string): Promise<Duplex> {
    return this.#open(
      `open ${socketPath}`,
      (cb) => this.#client.openssh_forwardOutStreamLocal(socketPath, cb),
      'check that the service is running and that sshd allows it (AllowStreamLocalForwarding, DisableForwarding)',
    );
  }

  /** A byte stream to host:port as seen from the SSH host (direct-tcpip), when no socket is usable. */
  forwardTcp(host: string, port: number): Promise<Duplex> {
    return this.#open(
      `forward to ${host}:${port}`,
      (cb) => this.#client.forwardOut('127.0.0.1', 0, host, port, cb),
      'check that the service listens there and that sshd allows it (AllowTcpForwarding, DisableForwarding)',
    );
  }

  /** Ends the session; waits (briefly) for the socket to close so the process can exit. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const closed = new Promise<void>((resolve) => {
      this.#client.once('close', () => resolve());
      setTimeout(() => resolve(), 2000).unref();
    });
    this.#client.end();
    await closed;
    this.#client.destroy();
    for (const hop of this.#via) hop.destroy();
    this.#closed = true;
  }

  #open(what: string, start: (cb: (err: Error | undefined, channel: ClientChannel) => void) => void, hint?: string): Promise<ClientChannel> {
    if (this.#closed) return Promise.reject(this.#error(`cannot ${what}: the SSH connection is closed`));
    return new Promise((resolve, reject) => {
      start((err, channel) => (err ? reject(this.#error(`cannot ${what} over SSH: ${err.message}`, hint)) : resolve(channel)));
    });
  }

  #error(message: string, hint?: string, stderr = ''): TransportError {
    const tail = stderrTail(stderr);
    return new TransportError(tail ? `${message}: ${tail}` : message, { host: this.target.name, hint });
  }
}

function firstLine(command: string): string {
  const lines = command.trim().split('\n');
  return lines.length > 1 ? `${lines[0]} ...` : (lines[0] ?? '');
}

/** The last few lines of stderr: where tools say what went wrong. */
function stderrTail(stderr: string): string {
  const tail = stderr.trim().split('\n').slice(-5).join(' | ');
  return tail.length > 500 ? `...${tail.slice(-500)}` : tail;
}

/** One SSH session to leg (over sock, a channel through the previous hop, when given). */
async function openClient(leg: Leg, target: SshTarget, settings: SshSettings, sock: Duplex | undefined): Promise<Client> {
  const trusted = await trustedKeys(target, settings, leg.pinnedKey);
  const credentials = await credentialsFor(target, settings, leg.identity);
  const algorithms = hostKeyAlgorithms(trusted, leg.host, leg.port);
  const client = new Client();
  let refusal: TransportError | undefined;
  const config: ConnectConfig = {
    host: leg.host,
    port: leg.port,
    username: leg.user,
    ...credentials,
    ...(sock && { sock: sock as ConnectConfig['sock'] }),
    readyTimeout: settings.connectTimeoutSeconds * 1000,
    // Notices a dead peer during long operations instead of hanging until TCP gives up.
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    ...(algorithms && { algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } }),
    hostVerifier: (key: Buffer): boolean => {
      const verdict = verifyHostKey(trusted, leg.host, leg.port, key);
      if (verdict.kind === 'match') return true;
      refusal = refuseHostKey(verdict, key, leg, target, settings);
      return false;
    },
  };
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      client.removeListener('ready', onReady);
      client.end();
      reject(refusal ?? connectFailure(err, leg, target, settings));
    };
    const onReady = (): void => {
      client.removeListener('error', onError);
      // Late errors are followed by 'close' (see the constructor); a hop must not crash the process either.
      client.on('error', () => {});
      resolve();
    };
    client.once('ready', onReady);
    client.once('error', onError);
    client.connect(config);
  });
  return client;
}

/** A direct-tcpip channel from the jump host `from` to the next leg's SSH port. */
function forwardTo(client: Client, from: Leg, next: Leg, name: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, next.host, next.port, (err, channel) => {
      if (!err) return resolve(channel);
      client.end();
      reject(
        new TransportError(`${from.via} could not open a connection to ${next.host}:${next.port}: ${err.message}`, {
          host: name,
          hint: `check that ${from.host} reaches ${next.host}:${next.port} and that its sshd allows forwarding (AllowTcpForwarding, DisableForwarding)`,
          cause: err,
        }),
      );
    });
  });
}

async function trustedKeys(target: SshTarget, settings: SshSettings, pinnedKey: string | undefined): Promise<KnownHostKey[]> {
  if (pinnedKey !== undefined) {
    const pinned = parsePinnedKey(pinnedKey);
    if (!pinned) {
      throw new TransportError(`the pinned host key is not an OpenSSH public key`, {
        host: target.name,
        hint: 'host_key must look like "ssh-ed25519 AAAA..." (the second line of `ssh-keyscan HOST`, without the host name)',
      });
    }
    // known_hosts still counts for its @revoked lines.
    return pinnedTrust(pinned, await readKnownHosts(target, settings));
  }
  return readKnownHosts(target, settings);
}

async function readKnownHosts(target: SshTarget, settings: SshSettings): Promise<KnownHostKey[]> {
  try {
    return parseKnownHosts(await readFile(settings.knownHosts, 'utf8'));
  } catch (err) {
    // A missing file trusts nothing; the refusal that follows explains how to add the key.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TransportError(`cannot read ${settings.knownHosts}: ${(err as Error).message}`, { host: target.name });
  }
}

async function credentialsFor(target: SshTarget, settings: SshSettings, identity: string | undefined): Promise<Pick<ConnectConfig, 'privateKey' | 'agent'>> {
  if (identity !== undefined) {
    try {
      return { privateKey: await readFile(identity) };
    } catch (err) {
      const from = identity === settings.identity ? 'ssh.identity' : `IdentityFile in ${settings.config ?? 'ssh.config'}`;
      throw new TransportError(`cannot read the SSH identity ${identity} (${from}): ${(err as Error).message}`, { host: target.name });
    }
  }
  const agent = process.env.SSH_AUTH_SOCK;
  if (!agent) {
    throw new TransportError('no SSH identity is configured and no ssh-agent is running (SSH_AUTH_SOCK is unset)', {
      host: target.name,
      hint: 'set ssh.identity in the inventory, or start ssh-agent and ssh-add the key',
    });
  }
  return { agent };
}

function refuseHostKey(verdict: Exclude<HostKeyVerdict, { kind: 'match' }>, key: Buffer, leg: Leg, target: SshTarget, settings: SshSettings): TransportError {
  const { message, hint } = hostKeyRefusal(verdict, key, { host: leg.host, port: leg.port, knownHosts: settings.knownHosts, pinned: leg.pinnedKey !== undefined });
  return new TransportError(leg.via ? `${leg.via}: ${message}` : message, { host: target.name, hint });
}

/** One sentence for why the connection failed, from ssh2's error level and the socket's errno. */
function connectFailure(err: Error & { level?: string; code?: string }, leg: Leg, target: SshTarget, settings: SshSettings): TransportError {
  const where = leg.via ? `${leg.host}:${leg.port} (${leg.via})` : `${leg.host}:${leg.port}`;
  const at = { host: target.name, cause: err };
  if (err.level === 'client-authentication') {
    const how = leg.identity ? `the key ${leg.identity}` : 'the keys in ssh-agent';
    return new TransportError(`SSH login as ${leg.user} to ${where} was rejected with ${how}`, {
      ...at,
      hint: `check that the public key is in ~${leg.user}/.ssh/authorized_keys on the host`,
    });
  }
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT') {
    return new TransportError(`no SSH answer from ${where} within ${settings.connectTimeoutSeconds} s`, {
      ...at,
      hint: 'check the address, routing and firewalls; raise ssh.connect_timeout (seconds) in the inventory for slow links',
    });
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return new TransportError(`SSH connection to ${where} was refused`, { ...at, hint: `check that sshd is running and listens on port ${leg.port}` });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new TransportError(`${where} is unreachable (${err.code})`, { ...at, hint: 'check the address and the routing to it' });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TransportError(`cannot resolve ${leg.host}`, { ...at, hint: leg.via ? 'check the HostName of the jump host in ssh.config, or DNS' : 'check ssh_host in the inventory (or HostName in ssh.config) or DNS' });
    case 'ECONNRESET':
      return new TransportError(`${where} closed the connection during the SSH handshake`, { ...at, hint: 'check sshd logs on the host (MaxStartups, AllowUsers, tcp wrappers)' });
  }
  return new TransportError(`SSH connection to ${where} failed: ${err.message}`, at);
}

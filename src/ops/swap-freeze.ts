// The swap's freeze, held on the old writer itself: a small shell process there keeps one server
// session holding FLUSH TABLES WITH READ LOCK. While it holds, every write and commit on that server
// waits (nothing fails, so clients do not reconnect in a loop and none is left knocking at an
// address that is moving); reads go on. The controller talks to it over the SSH command's stdin,
// one word a line, and reads one marker a line back:
//   (start)  -> ready    the session is open, nothing held yet
//   freeze   -> frozen   the lock is held (or the process ends: it could not be taken)
//   arm      -> armed    read_only ON (so that only one node is writable once the target is);
//                        from now on, losing the controller means fence, no longer thaw
//   thaw     -> thawed   read_only OFF, UNLOCK TABLES: the waiting writes go on, on this server
//   fence    -> fenced   read_only ON, every client connection killed, then UNLOCK TABLES: what
//                        waited fails (read_only, or killed) and reconnects to the new writer
// Then the holder runs its `tail` (the swap drops the old writer's host-scoped copy of the floating
// IP there: it is kept until the fence so that what the old writer tells its clients reaches them).
// When the controller is gone (stdin closed: a crash, the connection lost) or silent for longer
// than its timeout, the holder decides alone: fence once armed (the target may be writable), thaw
// before. The lock is never given up before read_only is ON once armed: the order is read_only,
// kills, unlock, all while writes wait.
import { PassThrough } from 'node:stream';
import { ReplicationError } from '../errors.ts';
import { literalSql, type SqlStatement } from '../mysql/dialect.ts';
import type { SshConnection } from '../transport/ssh.ts';
import { shellQuote } from '../transport/shell.ts';

export type HolderVerb = 'freeze' | 'arm' | 'thaw' | 'fence';
const MARKER: Record<HolderVerb | 'start', string> = { start: 'ready', freeze: 'frozen', arm: 'armed', thaw: 'thawed', fence: 'fenced' };

export interface HolderScript {
  /** The server's command-line client (mariadb, mysql), logging in as the node's admin over the socket. */
  client: string;
  /** The statements that set read_only ON and OFF (the flavor's). */
  readOnlyOn: string;
  readOnlyOff: string;
  /** A shell command run once the server session ended, whatever the verdict (errors ignored). */
  tail: string;
  /** Lists the client connections to kill (one column, ID): never duet's own sessions or replication. */
  clientConnections: SqlStatement;
  /** How long FLUSH TABLES WITH READ LOCK may wait for running statements (whole seconds, >= 1). */
  lockWaitSeconds: number;
  /** How long the holder waits for the controller's next word before it decides alone. */
  silenceSeconds: number;
}

/**
 * The holder's shell script (bash: `read -t`). SIGPIPE and SIGHUP are ignored (and so in the client
 * it starts): a controller that is gone must not take the client, and with it the lock, down before
 * the holder acted. The kills run in a second client with --force (a connection may be gone already),
 * before UNLOCK is written: so they happen while writes still wait.
 */
export function holderScript(s: HolderScript): string {
  const marker = (m: string) => `SELECT '${m}';`;
  return [
    "trap '' PIPE HUP",
    `list=${shellQuote(literalSql(s.clientConnections))}`,
    '{',
    `  printf '%s\\n' ${shellQuote(`SET SESSION lock_wait_timeout = ${s.lockWaitSeconds};`)} ${shellQuote(marker(MARKER.start))}`,
    '  armed=',
    '  verdict=',
    `  while IFS= read -r -t ${s.silenceSeconds} verdict; do`,
    '    case $verdict in',
    `      freeze) printf '%s\\n' 'FLUSH TABLES WITH READ LOCK;' ${shellQuote(marker(MARKER.freeze))} ;;`,
    `      arm) armed=1; printf '%s\\n' ${shellQuote(`${s.readOnlyOn};`)} ${shellQuote(marker(MARKER.arm))} ;;`,
    '      thaw|fence) break ;;',
    '    esac',
    '    verdict=',
    '  done',
    '  if [ "$verdict" = fence ] || { [ "$verdict" != thaw ] && [ -n "$armed" ]; }; then',
    `    echo ${shellQuote(`${s.readOnlyOn};`)}`,
    `    ${s.client} -N -B -e "$list" 2>/dev/null | while read -r id; do case $id in ''|*[!0-9]*) ;; *) echo "KILL CONNECTION $id;" ;; esac; done | ${s.client} --force >/dev/null 2>&1`,
    `    printf '%s\\n' 'UNLOCK TABLES;' ${shellQuote(marker(MARKER.fence))}`,
    '  else',
    `    printf '%s\\n' ${shellQuote(`${s.readOnlyOff};`)} 'UNLOCK TABLES;' ${shellQuote(marker(MARKER.thaw))}`,
    '  fi',
    `} | ${s.client} -N -B -n`,
    `{ ${s.tail}; } >/dev/null 2>&1`,
    'true',
  ].join('\n');
}

/** The command that runs the holder: bash, for `read -t` (sh may be dash). */
export function holderCommand(s: HolderScript): string {
  return `exec bash -c ${shellQuote(holderScript(s))}`;
}

/** The controller's end of a running holder. */
export class FreezeHolder {
  readonly #stdin = new PassThrough();
  readonly #stdout = new PassThrough();
  #seen = '';
  #ended = false;
  #end: Promise<string>;
  #waiters: Array<() => void> = [];

  private constructor(ssh: SshConnection, command: string) {
    this.#stdout.on('data', (chunk: Buffer) => {
      this.#seen += chunk.toString('utf8');
      this.#wake();
    });
    this.#end = ssh.exec(command, { stdin: this.#stdin, stdout: this.#stdout }).then(
      (r) => `exited with status ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    void this.#end.then(() => {
      this.#ended = true;
      this.#wake();
    });
  }

  /** Starts the holder on `host` and waits until its session is open (nothing held yet). */
  static async start(ssh: SshConnection, script: HolderScript, host: string, timeoutMs: number): Promise<FreezeHolder> {
    const holder = new FreezeHolder(ssh, holderCommand(script));
    await holder.#await('start', host, timeoutMs);
    return holder;
  }

  /** The holder still runs (holds the lock, or is about to act on a word). */
  get alive(): boolean {
    return !this.#ended;
  }

  /** Sends a word and waits for its marker. */
  async send(verb: HolderVerb, host: string, timeoutMs: number): Promise<void> {
    if (this.#ended) throw new ReplicationError(`the freeze on ${host} is no longer held (its process ended)`, { host });
    this.#stdin.write(`${verb}\n`);
    await this.#await(verb, host, timeoutMs);
  }

  async #await(verb: HolderVerb | 'start', host: string, timeoutMs: number): Promise<void> {
    const marker = MARKER[verb];
    const deadline = Date.now() + timeoutMs;
    while (!this.#seen.split('\n').includes(marker)) {
      if (this.#ended) {
        throw new ReplicationError(`the freeze on ${host} ended before it was ${marker}: ${await this.#end}`, {
          host,
          hint: verb === 'freeze' ? 'the server refused FLUSH TABLES WITH READ LOCK, or a statement held it off past --timeout; nothing was changed' : undefined,
        });
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new ReplicationError(`the freeze on ${host} was not ${marker} within ${timeoutMs / 1000} s`, { host });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (verb === 'thaw' || verb === 'fence') {
      this.#stdin.end();
      await this.#end;
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

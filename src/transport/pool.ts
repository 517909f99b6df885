// Connections for a whole run, keyed by node name: each host gets one SSH session, opened on first
// use, shared by every step (commands, file uploads, MySQL channels).
import type { HostSpec, SshSettings } from '../inventory/model.ts';
import { SshConnection } from './ssh.ts';

export class HostPool {
  readonly #settings: SshSettings;
  // Promises, not connections, so concurrent first uses of a node share one handshake.
  readonly #connections = new Map<string, Promise<SshConnection>>();

  constructor(settings: SshSettings) {
    this.#settings = settings;
  }

  /** The node's connection, connecting now if there is none yet or the previous one was lost. */
  async get(node: HostSpec): Promise<SshConnection> {
    const existing = this.#connections.get(node.name);
    if (existing) {
      const connection = await existing.catch(() => undefined);
      if (connection && !connection.closed) return connection;
      // Someone else already replaced the lost connection while we waited: use theirs.
      if (this.#connections.get(node.name) !== existing) return this.get(node);
    }
    const target = { name: node.name, host: node.sshHost, port: node.sshPort, identity: node.sshIdentity, jump: node.sshJump };
    const connecting = SshConnection.connect(target, this.#settings, node.hostKey);
    this.#connections.set(node.name, connecting);
    // A failed attempt is forgotten so a later get() tries again instead of replaying the error.
    connecting.catch(() => {
      if (this.#connections.get(node.name) === connecting) this.#connections.delete(node.name);
    });
    return connecting;
  }

  async closeAll(): Promise<void> {
    const pending = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(pending.map(async (p) => (await p.catch(() => undefined))?.close()));
  }
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from 'ssh2';
import { skipHostKeysProof } from '../../src/transport/ssh.ts';

describe('ssh connection', () => {
  it("skips ssh2's proof of the host keys a server lists (the ssh2 internals it relies on are there)", async () => {
    const client = new Client();
    const closed = new Promise<void>((resolve) => {
      client.on('error', () => resolve());
      client.on('close', () => resolve());
    });
    // Port 1 on loopback: refused at once; what matters is the state connect() sets up synchronously.
    client.connect({ host: '127.0.0.1', port: 1, username: 'nobody', readyTimeout: 2000 });
    assert.equal(skipHostKeysProof(client), true);
    const internals = client as unknown as { _protocol: { openssh_hostKeysProve: (keys: unknown[]) => void }; _callbacks: Array<(failed: boolean) => void> };
    let answer: boolean | undefined;
    internals._callbacks.push((failed) => (answer = failed));
    internals._protocol.openssh_hostKeysProve([]);
    assert.equal(answer, true, 'the queued callback is answered "not proven"');
    assert.equal(internals._callbacks.length, 0, 'and taken back');
    await closed;
  });
});

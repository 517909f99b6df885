import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fingerprint,
  hostKeyAlgorithms,
  hostKeyRefusal,
  pinnedTrust,
  knownHostsName,
  parseKnownHosts,
  parsePinnedKey,
  verifyHostKey,
} from '../../src/transport/known-hosts.ts';

// Real keys and lines produced by ssh-keygen (the hashed ones by `ssh-keygen -H`).
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIFZ9I4WXXDARij+fHP9KGeosJUMJ+LBwDVIk+kwiYZLO';
const ECDSA =
  'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCNmbZTaFot/eir9DdMsa5p8PrXrCjTny/JfpqAlDLlPXvzg+FxRpTLrH1UALOsqzE1vtM+N+N2UjK4oNyV8iA4=';
const ed25519 = Buffer.from(ED25519, 'base64');
const ecdsa = Buffer.from(ECDSA, 'base64');

const PLAIN = `# managed by hand
db1.example,10.0.0.1 ssh-ed25519 ${ED25519}
[db2.example]:2222 ecdsa-sha2-nistp256 ${ECDSA} operator@laptop

@cert-authority *.example ssh-ed25519 ${ECDSA}
garbage-line
`;
const HASHED = `|1|I7LvgQlt0tXsswTNgzpGZ5Uubt0=|1kN13VQLM67DXU6tl88+9h8uHwQ= ssh-ed25519 ${ED25519}
|1|wqk9IgFM2yp8+Fe25CeMK0B7yrQ=|RqlkZ4wrtgCzQZc+QWY62JiAMz4= ecdsa-sha2-nistp256 ${ECDSA}
`;

test('knownHostsName brackets non-22 ports', () => {
  assert.equal(knownHostsName('db1', 22), 'db1');
  assert.equal(knownHostsName('10.0.0.1', 2222), '[10.0.0.1]:2222');
});

test('knownHostsName lowercases the host, as OpenSSH does before matching and hashing', () => {
  assert.equal(knownHostsName('DB1.Example', 22), 'db1.example');
  assert.equal(knownHostsName('DB2.example', 2222), '[db2.example]:2222');
});

test('fingerprint equals ssh-keygen -lf', () => {
  assert.equal(fingerprint(ed25519), 'SHA256:Ob5dGowrP1dHyH4twxKn2qZW5/iKp3XJ0GMsmgv0zHI');
  assert.equal(fingerprint(ecdsa), 'SHA256:TNCi5hZIy87lCIFyVPmnnb9sFNn4bw4b3WSBMD8jxbo');
});

test('plain entries: comments, @cert-authority and garbage are skipped', () => {
  const keys = parseKnownHosts(PLAIN);
  assert.deepEqual(
    keys.map((k) => [k.line, k.keyType]),
    [
      [2, 'ssh-ed25519'],
      [3, 'ecdsa-sha2-nistp256'],
    ],
  );
});

test('plain entries: match by any listed name, port-qualified names only on that port', () => {
  const keys = parseKnownHosts(PLAIN);
  assert.deepEqual(verifyHostKey(keys, 'db1.example', 22, ed25519), { kind: 'match' });
  assert.deepEqual(verifyHostKey(keys, '10.0.0.1', 22, ed25519), { kind: 'match' });
  assert.deepEqual(verifyHostKey(keys, 'DB1.EXAMPLE', 22, ed25519), { kind: 'match' });
  assert.deepEqual(verifyHostKey(keys, 'db2.example', 2222, ecdsa), { kind: 'match' });
  assert.deepEqual(verifyHostKey(keys, 'db2.example', 22, ecdsa), { kind: 'unknown' });
  assert.deepEqual(verifyHostKey(keys, '10.0.0.1', 2222, ed25519), { kind: 'unknown' });
});

test('a known host presenting another key is a mismatch naming what is known', () => {
  const keys = parseKnownHosts(PLAIN);
  assert.deepEqual(verifyHostKey(keys, 'db1.example', 22, ecdsa), {
    kind: 'mismatch',
    knownTypes: ['ssh-ed25519'],
    lines: [2],
  });
});

test('hashed entries (ssh-keygen -H) match the plain and the [host]:port names', () => {
  const keys = parseKnownHosts(HASHED);
  assert.deepEqual(verifyHostKey(keys, '10.0.0.1', 22, ed25519), { kind: 'match' });
  assert.deepEqual(verifyHostKey(keys, 'db2.example', 2222, ecdsa), { kind: 'match' });
  assert.deepEqual(verifyHostKey(keys, 'db2.example', 2222, ed25519).kind, 'mismatch');
  assert.deepEqual(verifyHostKey(keys, 'db3.example', 22, ed25519), { kind: 'unknown' });
});

test('@revoked refuses the key even where another line trusts it', () => {
  const keys = parseKnownHosts(`${PLAIN}@revoked * ssh-ed25519 ${ED25519}\n`);
  assert.deepEqual(verifyHostKey(keys, 'db1.example', 22, ed25519), { kind: 'revoked', line: 7 });
});

test('wildcards and negation follow ssh pattern rules', () => {
  const keys = parseKnownHosts(`*.example,!bad.example ssh-ed25519 ${ED25519}\n`);
  assert.equal(verifyHostKey(keys, 'db9.example', 22, ed25519).kind, 'match');
  assert.equal(verifyHostKey(keys, 'bad.example', 22, ed25519).kind, 'unknown');
  assert.equal(verifyHostKey(keys, 'example', 22, ed25519).kind, 'unknown');
});

test('a key whose blob does not carry the declared type is ignored', () => {
  assert.deepEqual(parseKnownHosts(`db1 ssh-rsa ${ED25519}\n`), []);
  assert.equal(parsePinnedKey(`ssh-rsa ${ED25519}`), undefined);
  assert.equal(parsePinnedKey('ssh-ed25519'), undefined);
});

test('a pinned inventory key trusts exactly that key for the host it belongs to', () => {
  const pinned = parsePinnedKey(`ssh-ed25519 ${ED25519} root@db1`);
  assert.ok(pinned);
  assert.deepEqual(verifyHostKey([pinned], '10.9.9.9', 2200, ed25519), { kind: 'match' });
  assert.equal(verifyHostKey([pinned], '10.9.9.9', 2200, ecdsa).kind, 'mismatch');
});

test('hostKeyAlgorithms offers only the known types, RSA under its SHA-2 signature names', () => {
  const keys = parseKnownHosts(`${PLAIN}db1.example ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7\n`);
  assert.deepEqual(hostKeyAlgorithms(keys, 'db1.example', 22), ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  assert.deepEqual(hostKeyAlgorithms(keys, 'db2.example', 2222), ['ecdsa-sha2-nistp256']);
  assert.equal(hostKeyAlgorithms(keys, 'nowhere', 22), undefined);
});

test('hashed entries match a host name written in capitals (OpenSSH hashes the lowercased name)', () => {
  // `ssh-keygen -H` of "db2.example" on port 2222 (see HASHED); the inventory may say DB2.EXAMPLE.
  const keys = parseKnownHosts(HASHED);
  assert.deepEqual(verifyHostKey(keys, 'DB2.Example', 2222, ecdsa), { kind: 'match' });
  assert.deepEqual(hostKeyAlgorithms(keys, 'DB2.EXAMPLE', 2222), ['ecdsa-sha2-nistp256']);
});

test('a pinned key still honours @revoked lines of known_hosts, and only those', () => {
  const pinned = parsePinnedKey(`ssh-ed25519 ${ED25519}`)!;
  const known = parseKnownHosts(`10.9.9.9 ecdsa-sha2-nistp256 ${ECDSA}\n@revoked * ssh-ed25519 ${ED25519}\n`);
  const trust = pinnedTrust(pinned, known);
  assert.deepEqual(verifyHostKey(trust, '10.9.9.9', 22, ed25519), { kind: 'revoked', line: 2 });
  // The ordinary line for the host does not widen what the pin trusts.
  assert.equal(verifyHostKey(trust, '10.9.9.9', 22, ecdsa).kind, 'mismatch');
  assert.deepEqual(hostKeyAlgorithms(trust, '10.9.9.9', 22), ['ssh-ed25519']);
  // A revocation for another host leaves the pin alone.
  const elsewhere = pinnedTrust(pinned, parseKnownHosts(`@revoked other.example ssh-ed25519 ${ED25519}\n`));
  assert.deepEqual(verifyHostKey(elsewhere, '10.9.9.9', 22, ed25519), { kind: 'match' });
});

test('refusal hints quote the host and the file, so they can be pasted as they are', () => {
  const ctx = { host: 'db1.example; rm -rf ~', port: 2222, knownHosts: '/home/op/my hosts', pinned: false };
  const unknown = hostKeyRefusal({ kind: 'unknown' }, ed25519, ctx);
  assert.equal(unknown.hint, "compare the fingerprint with the host's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then: ssh-keyscan -p 2222 'db1.example; rm -rf ~' >> '/home/op/my hosts'");
  assert.match(unknown.message, /^host key of db1\.example; rm -rf ~:2222 is not trusted: it is not in \/home\/op\/my hosts; presented SHA256:Ob5dGowrP1dHyH4twxKn2qZW5\/iKp3XJ0GMsmgv0zHI$/);
  const changed = hostKeyRefusal({ kind: 'mismatch', knownTypes: ['ssh-ed25519'], lines: [3] }, ecdsa, { ...ctx, host: 'DB1.example' });
  assert.match(changed.hint, /then: ssh-keygen -R '\[db1\.example\]:2222' -f '\/home\/op\/my hosts' && ssh-keyscan -p 2222 DB1\.example >> '\/home\/op\/my hosts'$/);
  const plain = hostKeyRefusal({ kind: 'unknown' }, ed25519, { host: '10.0.0.1', port: 22, knownHosts: '/root/.ssh/known_hosts', pinned: false });
  assert.match(plain.hint, /then: ssh-keyscan -p 22 10\.0\.0\.1 >> \/root\/\.ssh\/known_hosts$/);
  assert.match(hostKeyRefusal({ kind: 'mismatch', knownTypes: [], lines: [] }, ecdsa, { ...ctx, pinned: true }).hint, /update host_key in the inventory$/);
  assert.match(hostKeyRefusal({ kind: 'revoked', line: 7 }, ed25519, ctx).message, /is revoked \(\/home\/op\/my hosts line 7\)/);
});

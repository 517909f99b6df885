// Host key trust, decided the way OpenSSH's StrictHostKeyChecking=yes decides it: a key is accepted
// only if known_hosts (or the inventory's pinned key) lists it for this host. Pure: the caller reads
// the file and hands over the text.
import { createHash, createHmac } from 'node:crypto';
import { shellQuote } from './shell.ts';

/** How a known_hosts line names its hosts: a list of patterns, or one HMAC-SHA1 hashed name. */
export type HostMatcher =
  | { kind: 'patterns'; patterns: string[] }
  | { kind: 'hashed'; salt: Buffer; hash: Buffer };

export interface KnownHostKey {
  hosts: HostMatcher;
  /** "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ... */
  keyType: string;
  /** The key blob in SSH wire format: what the server presents during key exchange. */
  key: Buffer;
  /** An @revoked line: this key must never be accepted, whatever else lists it. */
  revoked: boolean;
  /** 1-based line in the file (0 for a pinned key), for messages. */
  line: number;
}

export type HostKeyVerdict =
  | { kind: 'match' }
  | { kind: 'revoked'; line: number }
  /** The host is known, but with other keys: it was reinstalled, or someone is in the middle. */
  | { kind: 'mismatch'; knownTypes: string[]; lines: number[] }
  | { kind: 'unknown' };

/**
 * The name known_hosts uses for a host: plain for port 22, "[host]:port" otherwise. Lower case, as
 * OpenSSH writes and hashes it: a hashed line for "db1" must match an inventory that says "DB1".
 */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** SHA256 fingerprint as `ssh-keygen -lf` and ssh print it, for comparing out of band. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Parses known_hosts text. Lines that cannot be understood are skipped, like ssh does: they can
 * never make a key trusted. @cert-authority lines are skipped too (duet does not do host certificates).
 */
export function parseKnownHosts(text: string): KnownHostKey[] {
  const keys: KnownHostKey[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let revoked = false;
    if (fields[0].startsWith('@')) {
      if (fields[0] !== '@revoked') return;
      revoked = true;
      fields.shift();
    }
    const [hostField, keyType, base64] = fields;
    if (hostField === undefined || keyType === undefined || base64 === undefined) return;
    const hosts = parseHostField(hostField);
    const key = decodeKeyBlob(keyType, base64);
    if (hosts && key) keys.push({ hosts, keyType, key, revoked, line: index + 1 });
  });
  return keys;
}

/**
 * A key pinned in the inventory ("ssh-ed25519 AAAA... [comment]") as a one-entry trust list valid for
 * whichever host it is attached to. Returns undefined if it is not a well-formed public key.
 */
export function parsePinnedKey(text: string): KnownHostKey | undefined {
  const [keyType, base64] = text.trim().split(/\s+/);
  if (keyType === undefined || base64 === undefined) return undefined;
  const key = decodeKeyBlob(keyType, base64);
  return key && { hosts: { kind: 'patterns', patterns: ['*'] }, keyType, key, revoked: false, line: 0 };
}

/**
 * What a pinned key trusts: the pinned key itself, and every @revoked line of known_hosts (which must
 * still refuse a revoked key, pinned or not). Other known_hosts lines are ignored for the host.
 */
export function pinnedTrust(pinned: KnownHostKey, known: readonly KnownHostKey[]): KnownHostKey[] {
  return [pinned, ...known.filter((k) => k.revoked)];
}

/** Decides whether `presented` (the server's key blob) may be trusted for host:port. */
export function verifyHostKey(known: readonly KnownHostKey[], host: string, port: number, presented: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const forHost = known.filter((k) => hostMatches(k.hosts, name));
  const revoked = forHost.find((k) => k.revoked && k.key.equals(presented));
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const trusted = forHost.filter((k) => !k.revoked);
  if (trusted.some((k) => k.key.equals(presented))) return { kind: 'match' };
  if (trusted.length > 0) {
    return { kind: 'mismatch', knownTypes: [...new Set(trusted.map((k) => k.keyType))], lines: trusted.map((k) => k.line) };
  }
  return { kind: 'unknown' };
}

/**
 * Host key algorithms to offer for host:port, restricted to the key types already known for it (as
 * OpenSSH does). Without this a server with several host keys may present one we do not have and the
 * connection would be refused as a mismatch. Undefined means "host unknown, keep ssh2's defaults".
 */
export function hostKeyAlgorithms(known: readonly KnownHostKey[], host: string, port: number): string[] | undefined {
  const name = knownHostsName(host, port);
  const types = new Set(known.filter((k) => !k.revoked && hostMatches(k.hosts, name)).map((k) => k.keyType));
  if (types.size === 0) return undefined;
  // One RSA key verifies under three signature algorithms; prefer the SHA-2 ones (RFC 8332).
  return [...types].flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
}

function parseHostField(field: string): HostMatcher | undefined {
  if (!field.startsWith('|')) return { kind: 'patterns', patterns: field.split(',') };
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))  (HashKnownHosts=yes)
  const [, magic, salt, hash] = field.split('|');
  if (magic !== '1' || salt === undefined || hash === undefined) return undefined;
  return { kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

/** The blob, if the base64 is a wire-format key whose embedded type matches the declared one. */
function decodeKeyBlob(keyType: string, base64: string): Buffer | undefined {
  const blob = Buffer.from(base64, 'base64');
  if (blob.length < 4) return undefined;
  const typeLength = blob.readUInt32BE(0);
  if (blob.length < 4 + typeLength || blob.subarray(4, 4 + typeLength).toString('latin1') !== keyType) return undefined;
  return blob;
}

function hostMatches(hosts: HostMatcher, name: string): boolean {
  if (hosts.kind === 'hashed') return createHmac('sha1', hosts.salt).update(name).digest().equals(hosts.hash);
  // Any matching negated pattern (!pattern) rules the line out, as in ssh.
  let matched = false;
  for (const pattern of hosts.patterns) {
    const negated = pattern.startsWith('!');
    if (globMatches(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** ssh's wildcard patterns: `*` any run, `?` one character; case-insensitive like host names. */
function globMatches(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(name);
}

export interface HostKeyContext {
  host: string;
  port: number;
  /** The known_hosts file the verdict was made against. */
  knownHosts: string;
  /** The key was pinned in the inventory (host_key) rather than looked up in known_hosts. */
  pinned: boolean;
}

/**
 * Why a key was refused, and the exact commands that fix it (host and file names shell-quoted, so a
 * hint can be pasted as it is).
 */
export function hostKeyRefusal(verdict: Exclude<HostKeyVerdict, { kind: 'match' }>, presented: Buffer, ctx: HostKeyContext): { message: string; hint: string } {
  const where = `${ctx.host}:${ctx.port}`;
  const seen = `presented ${fingerprint(presented)}`;
  const file = shellQuote(ctx.knownHosts);
  const addKey = `ssh-keyscan -p ${ctx.port} ${shellQuote(ctx.host)} >> ${file}`;
  const confirm = 'confirm the new fingerprint on its console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub)';
  switch (verdict.kind) {
    case 'revoked':
      return {
        message: `host key of ${where} is revoked (${ctx.knownHosts} line ${verdict.line}); ${seen}`,
        hint: 'the host must get a new host key; a revoked key is never accepted',
      };
    case 'mismatch':
      return ctx.pinned
        ? {
            message: `host key of ${where} does not match the key pinned in the inventory; ${seen}: someone may be intercepting the connection`,
            hint: `if the host was reinstalled, ${confirm} and update host_key in the inventory`,
          }
        : {
            message: `host key of ${where} has CHANGED (known as ${verdict.knownTypes.join(', ')} at ${ctx.knownHosts} line ${verdict.lines.join(', ')}); ${seen}: someone may be intercepting the connection`,
            hint: `if the host was reinstalled, ${confirm}, then: ssh-keygen -R ${shellQuote(knownHostsName(ctx.host, ctx.port))} -f ${file} && ${addKey}`,
          };
    case 'unknown':
      return {
        message: `host key of ${where} is not trusted: it is not in ${ctx.knownHosts}; ${seen}`,
        hint: `compare the fingerprint with the host's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then: ${addKey}`,
      };
  }
}

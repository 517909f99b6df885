// Address arithmetic for validation and rendering. The pair itself is IPv4 (Heartbeat's IPaddr
// resource, the floating IP, is IPv4); IPv6 is parsed for the firewall's sources (firewall.ssh_from).

export interface Cidr {
  address: string;
  prefixLength: number;
}

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Parses "a.b.c.d/n"; with allowBare, "a.b.c.d" means /32. Returns undefined when malformed. */
export function parseCidr(text: string, { allowBare = false } = {}): Cidr | undefined {
  const [address, prefix, ...rest] = text.split('/');
  if (address === undefined || rest.length > 0 || !isIpv4(address)) return undefined;
  if (prefix === undefined) return allowBare ? { address, prefixLength: 32 } : undefined;
  if (!/^[0-9]{1,2}$/.test(prefix) || Number(prefix) > 32) return undefined;
  return { address, prefixLength: Number(prefix) };
}

function mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export function contains(net: Cidr, address: string): boolean {
  const m = mask(net.prefixLength);
  return ((ipv4ToInt(net.address) & m) >>> 0) === ((ipv4ToInt(address) & m) >>> 0);
}

/** True when address is the network or broadcast address of net (unusable as a host address). */
export function isNetworkOrBroadcast(net: Cidr, address: string): boolean {
  if (net.prefixLength >= 31) return false;
  const m = mask(net.prefixLength);
  const host = (ipv4ToInt(address) & ~m) >>> 0;
  return host === 0 || host === (~m >>> 0);
}

// IPv6, for the firewall's sources only (firewall.ssh_from): the pair itself is IPv4.

const HEXTET = /^[0-9A-Fa-f]{1,4}$/;

/** The 128-bit value of an IPv6 address written in hex (no zone, no dotted IPv4 tail); undefined when malformed. */
export function ipv6ToBigInt(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8 || (halves.length === 2 && head.length + tail.length > 7) || !groups.every((g) => HEXTET.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function isIpv6(text: string): boolean {
  return ipv6ToBigInt(text) !== undefined;
}

/**
 * An IPv6 address as inet_ntop (and so ip6tables -S) prints it: lower case, leading zeros dropped,
 * the longest run of two or more zero groups (the first of equals) as "::", and an IPv4-mapped
 * address (::ffff:0:0/96) with its last 32 bits dotted.
 */
export function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const v4 = Number(value & 0xffffffffn);
    return `::ffff:${[24, 16, 8, 0].map((s) => (v4 >>> s) & 255).join('.')}`;
  }
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (best.length < 2) return hex(groups);
  return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.length))}`;
}

export interface AnyCidr extends Cidr {
  family: 4 | 6;
}

/** An IPv4 or IPv6 CIDR ("a.b.c.d/n", "2001:db8::/32"); with allowBare a plain address is a /32 or /128. */
export function parseAnyCidr(text: string, { allowBare = false } = {}): AnyCidr | undefined {
  const v4 = parseCidr(text, { allowBare });
  if (v4) return { family: 4, ...v4 };
  const [address, prefix, ...rest] = text.split('/');
  if (address === undefined || rest.length > 0 || !isIpv6(address)) return undefined;
  if (prefix === undefined) return allowBare ? { family: 6, address, prefixLength: 128 } : undefined;
  if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > 128) return undefined;
  return { family: 6, address, prefixLength: Number(prefix) };
}

/**
 * A CIDR as iptables -S and ip6tables -S print a source or destination: the host bits cleared, the
 * address in its canonical form, the prefix length always written. Undefined when malformed.
 */
export function canonicalCidr(text: string): string | undefined {
  const cidr = parseAnyCidr(text, { allowBare: true });
  if (!cidr) return undefined;
  if (cidr.family === 4) {
    const value = (ipv4ToInt(cidr.address) & mask(cidr.prefixLength)) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (value >>> s) & 255).join('.')}/${cidr.prefixLength}`;
  }
  const bits = BigInt(128 - cidr.prefixLength);
  const value = (ipv6ToBigInt(cidr.address)! >> bits) << bits;
  return `${formatIpv6(value)}/${cidr.prefixLength}`;
}

/** 4 or 6: the family of a valid CIDR or address (see parseAnyCidr); undefined when malformed. */
export function cidrFamily(text: string): 4 | 6 | undefined {
  return parseAnyCidr(text, { allowBare: true })?.family;
}

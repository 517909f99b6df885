// IPv4 address arithmetic for validation and rendering. IPv4 only: Heartbeat's IPaddr resource
// (the floating IP) is IPv4, and duet does not manage IPv6 pairs yet.

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

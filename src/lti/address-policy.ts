/**
 * Which network addresses dynamic registration may reach in production (issue #19 §3): none that
 * is private, loopback, link-local, unique-local, CGNAT, multicast, reserved or unspecified, unless
 * the operator sets REGISTRATION_ALLOW_PRIVATE=true. The verdict is on an ADDRESS (what the socket
 * connects to), never on a host name: safe-fetch.ts checks every address a name resolves to, at
 * connect time. IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) get the verdict of that IPv4 address.
 */
import { isIP } from 'node:net';

export interface AddressRange {
  cidr: string;
  label: string;
}

const PRIVATE = 'privada (RFC 1918)';

export const REFUSED_IPV4_RANGES: readonly AddressRange[] = [
  { cidr: '0.0.0.0/8', label: 'no especificada (0.0.0.0/8)' },
  { cidr: '10.0.0.0/8', label: PRIVATE },
  { cidr: '100.64.0.0/10', label: 'CGNAT (RFC 6598)' },
  { cidr: '127.0.0.0/8', label: 'loopback' },
  { cidr: '169.254.0.0/16', label: 'link-local' },
  { cidr: '172.16.0.0/12', label: PRIVATE },
  { cidr: '192.0.0.0/24', label: 'reservada (IETF)' },
  { cidr: '192.0.2.0/24', label: 'documentación' },
  { cidr: '192.168.0.0/16', label: PRIVATE },
  { cidr: '198.18.0.0/15', label: 'reservada (pruebas de rendimiento)' },
  { cidr: '198.51.100.0/24', label: 'documentación' },
  { cidr: '203.0.113.0/24', label: 'documentación' },
  { cidr: '224.0.0.0/4', label: 'multicast' },
  { cidr: '240.0.0.0/4', label: 'reservada (240.0.0.0/4, broadcast)' },
];

/** IPv6 ranges refused outright (the IPv4-carrying blocks are judged on their IPv4 address instead). */
export const REFUSED_IPV6_RANGES: readonly AddressRange[] = [
  { cidr: '::/96', label: 'no especificada, loopback o compatible IPv4 (::/96)' },
  { cidr: '64:ff9b:1::/48', label: 'NAT64 local' },
  { cidr: '100::/64', label: 'descarte (100::/64)' },
  { cidr: '2001::/32', label: 'Teredo' },
  { cidr: '2001:db8::/32', label: 'documentación' },
  { cidr: 'fc00::/7', label: 'unique-local' },
  { cidr: 'fe80::/10', label: 'link-local' },
  { cidr: 'fec0::/10', label: 'site-local' },
  { cidr: 'ff00::/8', label: 'multicast' },
];

export interface AddressVerdict {
  public: boolean;
  /** Which refused range holds it (null when public). */
  range: string | null;
}

const NOT_AN_ADDRESS: AddressVerdict = { public: false, range: 'no es una dirección IP' };

interface ParsedRange {
  base: bigint;
  bits: number;
  label: string;
}

function ipv4ToNumber(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** The 128-bit value of an IPv6 address (a zone id like %eth0 is ignored), or null. */
function ipv6ToBigInt(ip: string): bigint | null {
  const address = ip.replace(/%.*$/, '');
  if (isIP(address) !== 6) return null;
  let head = address;
  let tailGroups: string[] = [];
  // A trailing dotted IPv4 (::ffff:127.0.0.1) is two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const v4 = ipv4ToNumber(dotted[2]!);
    if (v4 === null) return null;
    head = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
    tailGroups = [((v4 >>> 16) & 0xffff).toString(16), (v4 & 0xffff).toString(16)];
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, null];
  const leftGroups = left ? left.split(':').filter((g) => g !== '') : [];
  const rightGroups = right ? right.split(':').filter((g) => g !== '') : [];
  const known = [...leftGroups, ...rightGroups, ...tailGroups];
  const groups = right === null ? known : [...leftGroups, ...Array<string>(8 - known.length).fill('0'), ...rightGroups, ...tailGroups];
  if (groups.length !== 8) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function parseRanges(ranges: readonly AddressRange[], toValue: (base: string) => bigint | null): ParsedRange[] {
  return ranges.map((r) => {
    const [base, bits] = r.cidr.split('/');
    const value = toValue(base!);
    if (value === null) throw new Error(`bad range ${r.cidr}`);
    return { base: value, bits: Number(bits), label: r.label };
  });
}

const V4 = parseRanges(REFUSED_IPV4_RANGES, (b) => {
  const n = ipv4ToNumber(b);
  return n === null ? null : BigInt(n);
});
const V6 = parseRanges(REFUSED_IPV6_RANGES, ipv6ToBigInt);

function inRange(value: bigint, width: number, range: ParsedRange): boolean {
  const shift = BigInt(width - range.bits);
  return value >> shift === range.base >> shift;
}

function classifyIpv4(n: number): AddressVerdict {
  const value = BigInt(n);
  const hit = V4.find((r) => inRange(value, 32, r));
  return hit ? { public: false, range: hit.label } : { public: true, range: null };
}

const MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96
const NAT64_PREFIX = 0x0064ff9b0000000000000000n; // 64:ff9b::/96
const SIX_TO_FOUR = 0x2002n; // 2002::/16

/** The verdict on one address, IPv4 or IPv6, as the socket would connect to it. */
export function classifyAddress(ip: string): AddressVerdict {
  const v4 = ipv4ToNumber(ip);
  if (v4 !== null) return classifyIpv4(v4);
  const v6 = ipv6ToBigInt(ip);
  if (v6 === null) return NOT_AN_ADDRESS;
  const low32 = Number(v6 & 0xffffffffn);
  if (v6 >> 32n === MAPPED_PREFIX) return classifyIpv4(low32);
  if (v6 >> 32n === NAT64_PREFIX) return classifyIpv4(low32);
  if (v6 >> 112n === SIX_TO_FOUR) return classifyIpv4(Number((v6 >> 80n) & 0xffffffffn));
  const hit = V6.find((r) => inRange(v6, 128, r));
  return hit ? { public: false, range: hit.label } : { public: true, range: null };
}

export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip).public;
}

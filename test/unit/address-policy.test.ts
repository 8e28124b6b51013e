/**
 * Issue #19 §3: which destinations dynamic registration may reach in production. The classifier is
 * checked against named cases at both sides of every range boundary, and, property-based
 * (fast-check), against Node's own net.BlockList built from the same ranges written as CIDR text,
 * with IPv4-mapped IPv6 forms and the numeric host spellings the URL parser normalises.
 */
import fc from 'fast-check';
import net from 'node:net';
import { classifyAddress, isPublicAddress, REFUSED_IPV4_RANGES, REFUSED_IPV6_RANGES } from '../../src/lti/address-policy';

const refused = (ip: string) => !isPublicAddress(ip);

describe('named cases, each at the boundaries of its range', () => {
  it.each([
    // [address, refused?]
    ['0.0.0.0', true],
    ['0.255.255.255', true],
    ['1.0.0.0', false],
    ['9.255.255.255', false],
    ['10.0.0.0', true],
    ['10.255.255.255', true],
    ['11.0.0.0', false],
    ['100.63.255.255', false],
    ['100.64.0.0', true],
    ['100.127.255.255', true],
    ['100.128.0.0', false],
    ['126.255.255.255', false],
    ['127.0.0.0', true],
    ['127.0.0.1', true],
    ['127.255.255.255', true],
    ['128.0.0.0', false],
    ['169.253.255.255', false],
    ['169.254.0.0', true],
    ['169.254.169.254', true],
    ['169.254.255.255', true],
    ['169.255.0.0', false],
    ['172.15.255.255', false],
    ['172.16.0.0', true],
    ['172.31.255.255', true],
    ['172.32.0.0', false],
    ['192.167.255.255', false],
    ['192.168.0.0', true],
    ['192.168.255.255', true],
    ['192.169.0.0', false],
    ['223.255.255.255', false],
    ['224.0.0.0', true],
    ['239.255.255.255', true],
    ['255.255.255.255', true],
    ['8.8.8.8', false],
    ['200.14.85.10', false],
    // IPv6
    ['::', true],
    ['::1', true],
    ['::2', true], // IPv4-compatible (deprecated) block
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:a00:1', true],
    ['::ffff:8.8.8.8', false],
    ['::ffff:808:808', false],
    ['0:0:0:0:0:ffff:7f00:0001', true],
    ['64:ff9b::7f00:1', true], // NAT64 of 127.0.0.1
    ['64:ff9b::808:808', false], // NAT64 of 8.8.8.8
    ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false],
    ['fc00::', true],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true],
    ['fe00::', false],
    ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', false],
    ['fe80::', true],
    ['fe80::1%eth0', true],
    ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true],
    ['fec0::1', true],
    ['ff00::', true],
    ['ff02::1', true],
    ['2002:7f00:1::', true], // 6to4 of 127.0.0.1
    ['2002:808:808::', false], // 6to4 of 8.8.8.8
    ['2001:db8::1', true],
    ['2800:3f0:4002:800::200e', false],
    ['2606:4700::1111', false],
  ])('%s refused: %s', (ip, isRefused) => {
    expect(refused(ip)).toBe(isRefused);
  });

  it('names the range it refuses, and refuses what is not an address at all', () => {
    expect(classifyAddress('172.16.0.1')).toEqual({ public: false, range: 'privada (RFC 1918)' });
    expect(classifyAddress('100.64.0.1')).toEqual({ public: false, range: 'CGNAT (RFC 6598)' });
    expect(classifyAddress('::ffff:127.0.0.1')).toEqual({ public: false, range: 'loopback' });
    expect(classifyAddress('8.8.8.8')).toEqual({ public: true, range: null });
    for (const junk of ['', 'localhost', '1.2.3', '1.2.3.256', '::g', '1:2:3:4:5:6:7:8:9', '2130706433']) {
      expect(classifyAddress(junk)).toEqual({ public: false, range: 'no es una dirección IP' });
    }
  });
});

// An independent oracle: Node's BlockList, from the same ranges written as CIDR text.
const oracle = new net.BlockList();
for (const r of REFUSED_IPV4_RANGES) oracle.addSubnet(r.cidr.split('/')[0]!, Number(r.cidr.split('/')[1]), 'ipv4');
for (const r of REFUSED_IPV6_RANGES) oracle.addSubnet(r.cidr.split('/')[0]!, Number(r.cidr.split('/')[1]), 'ipv6');
const ipv4Of = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
const hex4 = (n: number) => `${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('property-based', () => {
  it('every IPv4 address: refused exactly when a listed range (as a BlockList) holds it', () => {
    fc.assert(fc.property(u32, (n) => refused(ipv4Of(n)) === oracle.check(ipv4Of(n), 'ipv4')), { numRuns: 20_000 });
  });

  it('every address inside a refused IPv4 range is refused, and so is its IPv4-mapped IPv6 form (dotted and hex)', () => {
    const inRange = fc.constantFrom(...REFUSED_IPV4_RANGES).chain((r) => {
      const [base, bits] = r.cidr.split('/');
      const start = base!.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
      const size = 2 ** (32 - Number(bits));
      return fc.integer({ min: start, max: start + size - 1 });
    });
    fc.assert(fc.property(inRange, (n) => refused(ipv4Of(n)) && refused(`::ffff:${ipv4Of(n)}`) && refused(`::ffff:${hex4(n)}`)));
  });

  it('an IPv4-mapped IPv6 address has the verdict of its IPv4 address', () => {
    fc.assert(fc.property(u32, (n) => refused(`::ffff:${ipv4Of(n)}`) === refused(ipv4Of(n)) && refused(`::ffff:${hex4(n)}`) === refused(ipv4Of(n))), { numRuns: 5000 });
  });

  it('every host spelling the URL parser accepts for an IPv4 address (decimal, octal, hex) is judged on the address it means', () => {
    const spellings = (n: number) => [String(n), `0x${n.toString(16)}`, ipv4Of(n).split('.').map((o) => `0${Number(o).toString(8)}`).join('.'), ipv4Of(n).split('.').map((o) => `0x${Number(o).toString(16)}`).join('.')];
    fc.assert(
      fc.property(u32, (n) => spellings(n).every((s) => {
        const host = new URL(`http://${s}/`).hostname;
        return host === ipv4Of(n) && refused(host) === refused(ipv4Of(n));
      })),
      { numRuns: 2000 },
    );
  });

  it('IPv6 addresses outside the mapped and translated blocks: refused exactly when a listed IPv6 range holds them', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((g) => g.toString(16));
    const firstGroup = fc.oneof(group, fc.constantFrom('fc00', 'fd12', 'fe80', 'febf', 'fec0', 'ff02', '2001', '2002', '64', '100', '0'));
    const v6 = fc.tuple(firstGroup, fc.array(group, { minLength: 7, maxLength: 7 })).map(([a, rest]) => [a, ...rest].join(':'));
    fc.assert(
      fc.property(v6, (ip) => {
        const expanded = new URL(`http://[${ip}]/`).hostname; // the parser's canonical form
        const canonical = expanded.slice(1, -1);
        // Mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) are judged on the IPv4 inside.
        if (/^::ffff:/.test(canonical) || /^64:ff9b::/.test(canonical) || /^2002:/.test(canonical)) return true;
        return refused(canonical) === oracle.check(canonical, 'ipv6');
      }),
      { numRuns: 20_000 },
    );
  });
});

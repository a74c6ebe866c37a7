import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Ranges a webhook must not reach unless its host is allow-listed: loopback, private, link-local, and the like. */
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const BLOCKED_V6: Array<[string, number]> = [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32],
];

export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const resolveWithDns: Resolve = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
}

export interface AddressGuard {
  /** True when `hostname` may resolve to anything, including private addresses. */
  allowListed(hostname: string): boolean;
  /**
   * The addresses to connect to, all checked. Checking every answer and then connecting to a checked
   * one (never resolving again) is what defeats DNS rebinding.
   */
  resolve(hostname: string): Promise<LookupAddress[]>;
}

export function createAddressGuard(options: { allowHosts: string[]; resolve?: Resolve }): AddressGuard {
  const blocked = new BlockList();
  for (const [network, prefix] of BLOCKED_V4) blocked.addSubnet(network, prefix, 'ipv4');
  for (const [network, prefix] of BLOCKED_V6) blocked.addSubnet(network, prefix, 'ipv6');
  const allowed = new Set(options.allowHosts.map((host) => normaliseHost(host)));
  const resolve = options.resolve ?? resolveWithDns;
  const isBlocked = (address: string, family: number): boolean => blocked.check(address, family === 6 ? 'ipv6' : 'ipv4');

  return {
    allowListed: (hostname) => allowed.has(normaliseHost(hostname)),
    async resolve(hostname) {
      const host = normaliseHost(hostname);
      const literal = isIP(host);
      const addresses = literal ? [{ address: host, family: literal }] : await resolve(host);
      if (addresses.length === 0) throw new BlockedAddressError(`host ${host} did not resolve to any address`);
      if (allowed.has(host)) return addresses;
      const refused = addresses.find(({ address, family }) => isBlocked(address, family));
      if (refused) throw new BlockedAddressError(`host ${host} resolves to ${refused.address}, a private or local address that is not allow-listed`);
      return addresses;
    },
  };
}

/** `[::1]` in a URL is `::1` to the resolver; host names are case-insensitive. */
function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

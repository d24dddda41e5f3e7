import { BlockList, isIP } from "node:net";

/**
 * TRUST_PROXY: the proxies (load balancers) whose X-Forwarded-For the server
 * believes. The client of a call is its TCP peer, unless that peer is a
 * trusted proxy: then it is the right-most address in X-Forwarded-For that
 * is not a trusted proxy itself. Entries left of it were written by whoever
 * sent the request and prove nothing; a peer nobody trusts may write any
 * X-Forwarded-For it likes, so it is ignored.
 */
export interface TrustedProxies {
  /** True when `address` is one of the trusted proxies. */
  trusts(address: string): boolean;
  /** The client address for a request from `peer` carrying these X-Forwarded-For values (undefined when absent). */
  clientAddress(peer: string | undefined, forwardedFor: string | null | undefined): string | undefined;
}

/** Addresses (IPv4 or IPv6) and CIDR blocks ("10.0.0.0/8", "fd00::/8"); throws a message naming the bad entry. */
export function trustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix, extra] = entry.split("/");
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const length = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
    if (family === 0 || extra !== undefined || !(length >= 0 && length <= bits)) {
      throw new Error(`"${entry}" is not an IP address or CIDR block; e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8`);
    }
    list.addSubnet(address, length, family === 4 ? "ipv4" : "ipv6");
  }
  const trusts = (address: string) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
  };
  return {
    trusts,
    clientAddress(peer, forwardedFor) {
      if (peer === undefined || entries.length === 0 || !trusts(peer)) return plain(peer);
      let client = peer;
      const hops = (forwardedFor ?? "").split(",").map((hop) => withoutPort(hop.trim()));
      for (let index = hops.length - 1; index >= 0; index--) {
        const hop = hops[index] ?? "";
        // Garbage from the last trusted hop's client: that client is all we know.
        if (isIP(hop) === 0) break;
        client = hop;
        if (!trusts(hop)) break;
      }
      return plain(client);
    },
  };
}

/** IPv4-mapped IPv6 ("::ffff:10.0.0.1") as plain IPv4. */
function plain(address: string | undefined): string | undefined {
  return address?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
}

/** "1.2.3.4:5678" and "[::1]:5678" as proxies sometimes write them, without the port. */
function withoutPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return v4?.[1] ?? hop;
}

import { isIP } from "node:net";

/**
 * Which names a request's Host (or :authority) may give this server: the
 * defence against DNS rebinding, where a page on attacker.example re-points
 * its own name at 127.0.0.1 (or another internal address) and then calls the
 * server from the victim's browser as "same origin". The browser still sends
 * `Host: attacker.example`, so refusing names the server does not answer for
 * ends the attack whatever the page's DNS says.
 *
 * Always accepted:
 * - loopback names: "localhost" and "*.localhost" (which browsers resolve to
 *   loopback themselves, never through DNS);
 * - IP literals (127.0.0.1, 10.0.0.5, [::1]): a rebinding page's origin is a
 *   DNS name, never an address, since the attack needs a name whose answer
 *   changes. Accepting them keeps `curl http://10.0.0.5:8080` working.
 * Any other name must be listed in ALLOWED_HOSTS: exactly ("api.example.com"),
 * as a suffix wildcard ("*.example.com": any name under example.com, not
 * example.com itself), or "*" for any name.
 */
export interface AllowedHosts {
  /** "*": every name (a server behind a proxy that checks Host itself). */
  readonly any: boolean;
  /** Exact names, lower case, without a trailing dot. */
  readonly names: ReadonlySet<string>;
  /** From "*.example.com": ".example.com". */
  readonly suffixes: readonly string[];
}

/** Reads ALLOWED_HOSTS' entries; throws an Error naming the first entry that is not a host name or wildcard. */
export function allowedHosts(entries: readonly string[]): AllowedHosts {
  const names = new Set<string>();
  const suffixes: string[] = [];
  let any = false;
  for (const entry of entries) {
    if (entry === "*") {
      any = true;
      continue;
    }
    const wildcard = entry.startsWith("*.");
    const name = canonicalName(wildcard ? entry.slice(2) : entry);
    if (!hostNameSyntax.test(name)) {
      throw new Error(`"${entry}" is not a host name (api.example.com), a suffix wildcard (*.example.com) or "*"`);
    }
    if (wildcard) suffixes.push(`.${name}`);
    else names.add(name);
  }
  return { any, names, suffixes };
}

/** Letters, digits and hyphens in dot-separated labels (no port, no brackets, no "*" inside). */
const hostNameSyntax = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/**
 * True when `authority` (a Host or :authority value already found to be
 * valid host[:port] syntax) names this server. The port is not compared:
 * behind a proxy or a port mapping the client's port is not the one bound.
 */
export function hostAllowed(authority: string, allowed: AllowedHosts): boolean {
  if (allowed.any) return true;
  const host = hostOf(authority);
  const name = canonicalName(host);
  if (host.startsWith("[") || isIP(name) !== 0) return true;
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (allowed.names.has(name)) return true;
  for (const suffix of allowed.suffixes) if (name.endsWith(suffix)) return true;
  return false;
}

/** The host part of host[:port]: a bracketed IPv6 literal keeps its brackets. */
export function hostOf(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(":");
  return colon === -1 ? authority : authority.slice(0, colon);
}

/** DNS names are case-insensitive, and "example.com." (fully qualified) is "example.com". */
function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** hostAllowed for one server's ALLOWED_HOSTS, remembering the last authority accepted (a connection's streams all carry the same). */
export class HostFilter {
  private readonly allowed: AllowedHosts;
  private lastAllowed = "";

  constructor(entries: readonly string[]) {
    this.allowed = allowedHosts(entries);
  }

  allows(authority: string): boolean {
    if (authority === this.lastAllowed) return true;
    if (!hostAllowed(authority, this.allowed)) return false;
    this.lastAllowed = authority;
    return true;
  }
}

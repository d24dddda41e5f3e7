import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";
import type { Principal } from "../auth/principal.js";

/**
 * Whose budget a call spends: the principal's (its `sub`) when the token was
 * verified, else the client address's. An IPv6 client usually owns a whole
 * /64 and can pick any address in it, so IPv6 addresses count per /64.
 */
export function callerKey(principal: Principal | undefined, remoteAddress: string | undefined): string {
  if (principal !== undefined) return `sub:${fitKey(principal.subject)}`;
  return `addr:${addressBucket(remoteAddress ?? "unknown")}`;
}

/** Store keys are at most 255 characters (RateLimiterPostgres's column): long subjects are hashed. */
function fitKey(text: string): string {
  return text.length <= 128 ? text : createHash("sha256").update(text).digest("base64url");
}

/** The address, IPv4-mapped IPv6 as plain IPv4, other IPv6 as its /64 prefix. */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, in lowercase hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.toLowerCase().split("%")[0]?.split("::") ?? [""];
  const groups = (part: string | undefined) => (part ? part.split(":").flatMap(embeddedIPv4) : []);
  const left = groups(head);
  const right = groups(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16).toString(16));
}

/** "1.2.3.4" at the end of an IPv6 address is two groups. */
function embeddedIPv4(group: string): string[] {
  if (!group.includes(".")) return [group];
  const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Case } from "../case.js";
import type { Rng } from "../rng.js";
import { badAuthority, oddHeaderName, oddHeaderValue } from "./values.js";

/** The built page's asset names (sorted, so a seed picks the same one for the same build). */
const assets = (() => {
  try {
    return readdirSync(fileURLToPath(new URL("../../../web/assets/", import.meta.url))).sort();
  } catch {
    return [];
  }
})();

/** Paths that are not RPCs: the page, its assets, the probes, and paths no file has. */
export function plainPath(rng: Rng): string {
  const asset = assets.length > 0 ? rng.pick(assets) : "index.js";
  return rng.weighted<string>([
    ["/", 3],
    ["/index.html", 2],
    [`/assets/${asset}`, 3],
    ["/healthz", 4],
    ["/readyz", 4],
    ["/healthz?verbose=1", 1],
    ["/HEALTHZ", 1],
    ["/readyz/", 1],
    ["/favicon.ico", 1],
    ["/assets/", 1],
    ["/assets", 1],
    [`/assets/${asset}.map`, 1],
    [`/assets/${asset}/`, 1],
    [`/assets/${asset.toUpperCase()}`, 1],
    ["/../../etc/passwd", 1],
    ["/%2e%2e/%2e%2e/etc/passwd", 1],
    ["/assets/..%2f..%2f..%2fpackage.json", 1],
    ["/assets/%2e%2e/index.html", 1],
    ["/.git/config", 1],
    ["/%", 1],
    ["/%00", 1],
    ["/assets/%ff%fe", 1],
    ["//", 1],
    ["/index.html/", 1],
    ["/index.html;jsessionid=1", 1],
    [`/${"a/".repeat(rng.logInt(1, 2_000))}`, 1],
    [`/?${"q=1&".repeat(rng.logInt(1, 2_000))}`, 1],
    [`/${encodeURIComponent("ünïcödé")}`, 1],
    ["/grpc.health.v1.Health", 1],
    ["/grpc.reflection.v1.ServerReflection/", 1],
  ]);
}

/** A plain HTTP request (no RPC protocol): the page, the probes, odd methods and headers, CORS preflights. */
export function httpCase(rng: Rng, id: string, authority = false): Case {
  const http = rng.chance(0.5) ? "2" : "1.1";
  const method = rng.weighted<string>([
    ["GET", 8],
    ["HEAD", 3],
    ["POST", 2],
    ["OPTIONS", 2],
    ["PUT", 1],
    ["DELETE", 1],
    ["PATCH", 1],
    ["TRACE", 1],
    ["PROPFIND", 1],
  ]);
  const path = plainPath(rng);
  const headers: Array<[string, string]> = [];
  const mutations: string[] = [];
  if (method !== "GET" && method !== "HEAD") mutations.push(`method ${method}`);
  if (rng.chance(0.2)) {
    headers.push([
      "origin",
      rng.pick(["https://app.example.com", "null", "http://localhost:5173", "file://", oddHeaderValue(rng).slice(0, 200)]),
    ]);
    if (method === "OPTIONS") {
      headers.push(["access-control-request-method", rng.pick(["POST", "GET", "DELETE", "X"])]);
      headers.push(["access-control-request-headers", rng.pick(["content-type,connect-protocol-version", "x-grpc-web", "*", ""])]);
    }
    mutations.push("CORS headers");
  }
  if (rng.chance(0.2)) {
    const name = rng.pick(["range", "if-none-match", "if-modified-since", "accept-encoding", "accept", "cookie", oddHeaderName(rng)]);
    headers.push([name, oddHeaderValue(rng).slice(0, rng.chance(0.9) ? 200 : 70_000)]);
    mutations.push(`header ${name}`);
  }
  if (authority) {
    const name = http === "2" ? rng.pick([":authority", "host"]) : "host";
    const value = badAuthority(rng);
    headers.push([name, value]);
    mutations.push(`${name} ${JSON.stringify(value.slice(0, 60))}`);
  }
  const body = method === "POST" || method === "PUT" || method === "PATCH" ? rng.bytes(rng.logInt(1, 4096)) : Buffer.alloc(0);
  return {
    id,
    family: authority ? "authority" : "http",
    wire: "http",
    deadlineSent: false,
    mutations,
    request: { kind: "http", http, method, path, headers, body },
  };
}

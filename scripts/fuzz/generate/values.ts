import type { Rng } from "../rng.js";

/** Host / :authority values a server must survive (RFC 9110 §7.2 says what a valid one is; clients send anything). */
export const badAuthorities = [
  "",
  " ",
  "a b",
  "[::1",
  "::::",
  "[]",
  "%",
  "%zz",
  "host:99999",
  "host:-1",
  "host:port",
  "127.0.0.1:abc",
  "user:pass@host",
  "@",
  "ünïcödé.example",
  "..",
  "http://example.com",
  "example.com/path",
  "example.com?query",
  "example.com#frag",
  "\\\\backslash",
  "localhost:0",
  "[::1]:8080",
  "xn--",
  "a".repeat(300),
  "a.".repeat(200),
  "exa\tmple",
];

export function badAuthority(rng: Rng): string {
  return rng.chance(0.9) ? rng.pick(badAuthorities) : `${"x".repeat(rng.logInt(1, 20_000))}.example`;
}

export const contentTypes = [
  "application/grpc",
  "application/grpc+proto",
  "application/grpc+json",
  "application/grpc+xml",
  "application/grpc+",
  "application/grpc-web",
  "application/grpc-web+proto",
  "application/grpc-web+json",
  "application/grpc-web-text",
  "application/grpc-web-text+proto",
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "application/json;charset=UTF-8",
  "APPLICATION/JSON",
  "application/proto",
  "application/protobuf",
  "application/x-protobuf",
  "application/connect+json",
  "application/connect+proto",
  "application/connect+",
  "application/connect+json; charset=utf-8",
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=----x",
  "application/xml",
  "*/*",
  "",
  ";",
  "application/",
  "/json",
  "application/json, application/proto",
  "application/grpc; foo=bar",
  "application/json; charset=\u00ff",
];

export function contentType(rng: Rng): string {
  return rng.chance(0.95) ? rng.pick(contentTypes) : `application/${"x".repeat(rng.logInt(1, 10_000))}`;
}

/** grpc-timeout values: "1S" style, valid and not (the spec allows at most 8 digits). */
export const grpcTimeouts = [
  "0n",
  "1n",
  "1u",
  "1m",
  "50m",
  "1S",
  "1M",
  "1H",
  "99999999H",
  "100000000S",
  "-1S",
  "S",
  "1",
  "1.5S",
  "1s",
  " 1S",
  "1S ",
  "1X",
  "abc",
  "",
  "0S",
  "00000001m",
];

export const connectTimeouts = [
  "0",
  "1",
  "10",
  "1000",
  "9999999999",
  "10000000000",
  "-1",
  "1e3",
  "0x10",
  "abc",
  "",
  " 5",
  "1.5",
  "18446744073709551616",
  "300001",
  "300000",
];

export const encodings = ["gzip", "br", "identity", "deflate", "snappy", "zstd", "GZIP", "gzip, br", "", "*", "gzip;q=0", "x".repeat(100)];

export const protocolVersions = ["1", "2", "0", "", "v1", "1.0", " 1", "11"];

/** A header name that is a valid token (so clients send it) but unusual. */
export function oddHeaderName(rng: Rng): string {
  return rng.pick([
    "x-custom",
    "x-custom-bin",
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "grpc-trace-bin",
    "x-request-id",
    "connect-content-encoding",
    "trailer",
    "expect",
    "upgrade",
    "x-forwarded-for",
    "forwarded",
    "origin",
    "access-control-request-method",
    "if-none-match",
    "range",
    "cookie",
    "authorization",
    `x-${"h".repeat(rng.logInt(1, 200))}`,
    "!#$%&'*+-.^_`|~",
  ]);
}

export function oddHeaderValue(rng: Rng): string {
  return rng.weighted<string>([
    ["", 1],
    [" ", 1],
    ["a".repeat(rng.logInt(1, 60_000)), 3],
    ["not base64 !!!", 2],
    ["AAAA====", 1],
    ["%00%ff", 1],
    ["ünïcödé", 1],
    ["\u00ff\u00fe", 1],
    ["100-continue", 1],
    ["h2c", 1],
    ["websocket", 1],
    ['W/"x", *', 1],
    ["bytes=0-1,2-3", 1],
    [String(rng.u32()), 1],
  ]);
}

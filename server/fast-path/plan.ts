import type { IncomingHttpHeaders } from "node:http";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { type Compression, compressionNegotiate } from "@connectrpc/connect/protocol";
import { parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout } from "@connectrpc/connect/protocol-grpc";
import { checkGetQuery } from "../wire/connect-get.js";
import type { FastMethod } from "./methods.js";

export type Protocol = "grpc" | "grpc-web" | "connect";

/** What the fast path knows about a request it takes, decided from its head alone. */
export interface CallPlan {
  readonly entry: FastMethod;
  readonly protocol: Protocol;
  /** "GET" for Connect GET, else "POST". */
  readonly requestMethod: "GET" | "POST";
  /** Binary protobuf, else JSON (Connect only). */
  readonly binary: boolean;
  readonly requestCompression: Compression | null;
  readonly responseCompression: Compression | null;
  readonly timeoutMs: number | undefined;
  /** Connect GET: the request message, from the query. */
  readonly getMessage: Uint8Array | undefined;
  /** Most request body bytes the fast path buffers before it hands the request to connect-node. */
  readonly bodyCap: number;
}

export interface PlanOptions {
  readonly table: ReadonlyMap<string, FastMethod>;
  readonly compressions: readonly Compression[];
  readonly maxTimeoutMs: number;
  readonly readMaxBytes: number;
  /** CORS is configured: requests with an Origin header are left to connect-node (and the CORS middleware). */
  readonly cors: boolean;
}

const grpcTypes = new Set(["application/grpc", "application/grpc+proto"]);
const grpcWebTypes = new Set(["application/grpc-web", "application/grpc-web+proto"]);
const connectTypes = new Map([
  ["application/proto", true],
  ["application/json", false],
  ["application/json; charset=utf-8", false],
]);

/**
 * Decides whether the fast path serves a request, from its method, target
 * and headers: a unary method of the table, in one of the common forms of a
 * protocol, or a server-streaming one over gRPC. Anything else (client and
 * bidi streams, other protocols' streams, unknown paths, unusual content
 * types or encodings, a deadline or Connect GET query connect-node would
 * refuse, gRPC without `te: trailers`) returns undefined and goes to
 * connect-node unchanged, which answers it as it always has.
 */
export function planCall(
  options: PlanOptions,
  method: string | undefined,
  target: string,
  headers: IncomingHttpHeaders,
  http2: boolean,
): CallPlan | undefined {
  if (options.cors && headers.origin !== undefined) return undefined;
  const query = target.indexOf("?");
  const entry = options.table.get(query < 0 ? target : target.slice(0, query));
  if (entry === undefined) return undefined;
  if (method === "GET") return query < 0 ? undefined : planGet(options, entry, target.slice(query + 1), headers);
  if (method !== "POST" || query >= 0) return undefined;
  const contentType = headers["content-type"];
  if (contentType === undefined) return undefined;
  let protocol: Protocol;
  let binary = true;
  if (grpcTypes.has(contentType)) {
    // gRPC needs HTTP/2 and trailers; connect-node and the screening answer the rest.
    if (!http2 || headers.te !== "trailers") return undefined;
    protocol = "grpc";
  } else if (grpcWebTypes.has(contentType)) {
    protocol = "grpc-web";
  } else {
    const connectBinary = connectTypes.get(contentType);
    if (connectBinary === undefined) return undefined;
    protocol = "connect";
    binary = connectBinary;
  }
  // Server streams: gRPC only (gRPC-Web and Connect streams are connect-node's).
  if (entry.kind === "server_streaming" && protocol !== "grpc") return undefined;
  const connect = protocol === "connect";
  const compression = negotiate(
    options.compressions,
    headers[connect ? "content-encoding" : "grpc-encoding"],
    headers[connect ? "accept-encoding" : "grpc-accept-encoding"],
    connect ? "accept-encoding" : "grpc-accept-encoding",
  );
  if (compression === undefined) return undefined;
  const timeoutMs = deadline(protocol, headers, options.maxTimeoutMs);
  if (timeoutMs === false) return undefined;
  return {
    entry,
    protocol,
    requestMethod: "POST",
    binary,
    ...compression,
    timeoutMs,
    getMessage: undefined,
    // gRPC and gRPC-Web: one envelope; Connect: the message itself (connect-node's limits, see readAllBytes and transformSplitEnvelope).
    bodyCap: connect ? options.readMaxBytes : options.readMaxBytes + 5,
  };
}

function planGet(options: PlanOptions, entry: FastMethod, search: string, headers: IncomingHttpHeaders): CallPlan | undefined {
  if (!entry.takesGet) return undefined;
  const query = new URLSearchParams(search);
  const encoding = query.get("encoding");
  if ((encoding !== "proto" && encoding !== "json") || query.has("compression") || checkGetQuery(query) !== undefined) {
    return undefined;
  }
  const message = query.get("message") ?? "";
  const bytes = query.get("base64") === "1" ? base64Decode(message) : new TextEncoder().encode(message);
  const compression = negotiate(options.compressions, undefined, headers["accept-encoding"], "accept-encoding");
  if (compression === undefined) return undefined;
  const timeoutMs = deadline("connect", headers, options.maxTimeoutMs);
  if (timeoutMs === false) return undefined;
  return {
    entry,
    protocol: "connect",
    requestMethod: "GET",
    binary: encoding === "proto",
    ...compression,
    timeoutMs,
    getMessage: bytes,
    bodyCap: 0,
  };
}

/** connect-es's negotiation; undefined when it would refuse (an unknown request encoding) or a header is repeated. */
function negotiate(
  compressions: readonly Compression[],
  requested: string | string[] | undefined,
  accepted: string | string[] | undefined,
  acceptHeader: string,
): { requestCompression: Compression | null; responseCompression: Compression | null } | undefined {
  if (Array.isArray(requested) || Array.isArray(accepted)) return undefined;
  const result = compressionNegotiate([...compressions], requested ?? null, accepted ?? null, acceptHeader);
  if (result.error !== undefined) return undefined;
  return { requestCompression: result.request, responseCompression: result.response };
}

/** The deadline in ms (undefined: none), or false when connect-es would refuse the header. */
function deadline(protocol: Protocol, headers: IncomingHttpHeaders, maxTimeoutMs: number): number | undefined | false {
  const value = headers[protocol === "connect" ? "connect-timeout-ms" : "grpc-timeout"];
  if (value === undefined) return undefined;
  if (typeof value !== "string") return false;
  const parsed = protocol === "connect" ? parseConnectTimeout(value, maxTimeoutMs) : parseGrpcTimeout(value, maxTimeoutMs);
  return parsed.error === undefined ? parsed.timeoutMs : false;
}

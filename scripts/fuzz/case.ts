import type { Procedure } from "../lib/catalog.js";

/** The protocol a case speaks, which decides how its answer is judged. */
export type Wire = "grpc" | "grpc-web" | "connect" | "connect-get" | "http" | "rest" | "raw-h1" | "raw-h2";

/** What produced the case: a family of generators. */
export type Family = "rpc" | "message" | "huge" | "envelope" | "headers" | "get" | "http" | "rest" | "authority" | "raw-h1" | "raw-h2";

export const families: readonly Family[] = [
  "rpc",
  "message",
  "huge",
  "envelope",
  "headers",
  "get",
  "http",
  "rest",
  "authority",
  "raw-h1",
  "raw-h2",
];

/** One request through a real HTTP client (node:http or node:http2). */
export interface HttpRequest {
  readonly kind: "http";
  readonly http: "1.1" | "2";
  readonly method: string;
  /** Path and query, exactly as sent. */
  readonly path: string;
  /** In order; a name may repeat. For HTTP/2, ":authority" may be among them. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

/** Bytes written on a fresh TCP connection, for what no client library would send. */
export interface RawRequest {
  readonly kind: "raw";
  readonly http: "1.1" | "2";
  /** Written in order, each chunk its own write. */
  readonly chunks: readonly Buffer[];
  /** Half-close the connection after writing (a body cut short must end somewhere). */
  readonly endAfterWrite: boolean;
  /** HTTP/2: the stream ids the case opens, to know when every one has its answer. */
  readonly streamIds: readonly number[];
  /** HTTP/1.1: the request is HEAD, so its answer has no body. */
  readonly head?: boolean;
}

export interface Case {
  /** "SEED:INDEX": enough to rebuild the case alone. */
  readonly id: string;
  readonly family: Family;
  readonly wire: Wire;
  readonly procedure?: Procedure;
  /** True when the request carries a deadline (grpc-timeout, connect-timeout-ms): DEADLINE_EXCEEDED is then a fair answer. */
  readonly deadlineSent: boolean;
  /** What was done to a valid request, for the report; empty for a valid one. */
  readonly mutations: readonly string[];
  readonly request: HttpRequest | RawRequest;
}

export function isValidRequest(c: Case): boolean {
  return c.mutations.length === 0;
}

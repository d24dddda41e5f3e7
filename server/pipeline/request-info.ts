import { createContextKey } from "@connectrpc/connect";

/** Facts about the HTTP request behind a call, for interceptors that report on it. */
export interface RequestInfo {
  readonly httpVersion: string;
  readonly remoteAddress: string | undefined;
  /** The connection that carries it (the HTTP/2 session, or the HTTP/1.1 socket): what per-connection limits count. */
  readonly connection?: object;
  /** The REST route's template ("/v1/movies/{id}") for a call that came as REST (server/rest/); undefined for the other protocols. */
  readonly restRoute?: string;
}

export const requestInfoKey = createContextKey<RequestInfo>(
  { httpVersion: "unknown", remoteAddress: undefined },
  { description: "HTTP request facts" },
);

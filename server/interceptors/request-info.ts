import { createContextKey } from "@connectrpc/connect";

/** Facts about the HTTP request behind a call, for interceptors that report on it. */
export interface RequestInfo {
  readonly httpVersion: string;
  readonly remoteAddress: string | undefined;
}

export const requestInfoKey = createContextKey<RequestInfo>(
  { httpVersion: "unknown", remoteAddress: undefined },
  { description: "HTTP request facts" },
);

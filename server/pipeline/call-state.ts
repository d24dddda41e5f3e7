import { createContextKey, type HandlerContext } from "@connectrpc/connect";

/**
 * What the server needs to know about a call that may end before any
 * interceptor sees it (connect-es reads and parses unary requests before it
 * runs interceptors): whether the call log interceptor saw it, and the
 * signal of its handler context, which connect-es aborts with the error the
 * client is answered with.
 */
export interface CallState {
  seen: boolean;
  signal: AbortSignal | undefined;
}

/** Set for every request that reaches a procedure (see answerUnseenCalls); undefined elsewhere, e.g. in tests of the router alone. */
export const callStateKey = createContextKey<CallState | undefined>(undefined, { description: "call state" });

/**
 * connect-es's request gate: it runs in every call a protocol handler
 * accepted, before the request body is read. It only remembers the call's
 * signal; it never refuses anything.
 */
export function rememberCallSignal(context: HandlerContext): void {
  const state = context.values.get(callStateKey);
  if (state !== undefined) state.signal = context.signal;
}

import type { Readable } from "node:stream";
import { createContextKey } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { type DrainLimits, drainRequest } from "./drain-request.js";
import { wrapHandler } from "./wrap-handler.js";

/** The Node request behind a call that connect-node serves, whose body may be left unread. */
export const nodeRequestKey = createContextKey<Readable | undefined>(undefined, { description: "the Node request of a call" });

/**
 * A call answered before its request was read to the end finishes reading it
 * (see drainRequest) before the answer ends. connect-node resets an HTTP/2
 * stream still open once its trailers are out, and closes an HTTP/1.1
 * connection whose request body is left unread: with the request ended by
 * then, neither happens. On HTTP/2 the wait comes after the answer's messages
 * (a call that streams answers while the client streams requests is never
 * held up), on HTTP/1.1 before the first one (connect-node looks at the
 * request before writing the answer's head).
 */
export function finishUploadFirst(handler: UniversalHandler, limits: DrainLimits): UniversalHandler {
  const handle = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    const body = req.contextValues?.get(nodeRequestKey);
    if (body === undefined || body.readableEnded) return res;
    const drain = () => drainRequest(body, limits);
    return { ...res, body: req.httpVersion.startsWith("2") ? drainAfter(res.body, drain) : drainBefore(res.body, drain) };
  };
  return wrapHandler(handler, handle);
}

async function* drainAfter(body: AsyncIterable<Uint8Array> | undefined, drain: () => Promise<boolean>): AsyncGenerator<Uint8Array> {
  if (body !== undefined) yield* body;
  await drain();
}

async function* drainBefore(body: AsyncIterable<Uint8Array> | undefined, drain: () => Promise<boolean>): AsyncGenerator<Uint8Array> {
  await drain();
  if (body !== undefined) yield* body;
}

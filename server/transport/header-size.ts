import * as http2 from "node:http2";
import type { RequestHandler } from "./http-handler.js";

type Request = Parameters<RequestHandler>[0];

/**
 * Request header limits on HTTP/2, to match HTTP/1.1's (where Node's parser
 * answers 431 past `maxHeaderBytes`).
 *
 * Node's HTTP/2 enforces SETTINGS_MAX_HEADER_LIST_SIZE itself, by resetting
 * the stream (ENHANCE_YOUR_CALM) before the application sees the request:
 * the client learns nothing and nothing is logged. So the server announces
 * and enforces twice the limit there, as a hard cap on what it will decode,
 * and header lists between the limit and the cap get a 431 that says why.
 */
export function http2HeaderListCap(maxHeaderBytes: number): number {
  return 2 * maxHeaderBytes;
}

/**
 * Size of an HTTP/2 request's header list as RFC 9113 §6.5.2 counts it: name, value and
 * 32 bytes per field (Node decodes each byte as one character).
 */
export function headerListSize(req: Request): number | undefined {
  if (!(req instanceof http2.Http2ServerRequest)) return undefined;
  return rawHeaderListSize(req.rawHeaders);
}

/** The same, from the raw [name, value, name, value…] list of an HTTP/2 stream. */
export function rawHeaderListSize(raw: readonly string[]): number {
  let size = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) size += (raw[i]?.length ?? 0) + (raw[i + 1]?.length ?? 0) + 32;
  return size;
}

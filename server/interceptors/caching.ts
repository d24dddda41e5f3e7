import { createHash } from "node:crypto";
import type { OutgoingHttpHeaders } from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { policyOf } from "../policy/methods.js";
import type { RequestHandler } from "../transport/http-handler.js";
import { binaryMessagesKey } from "./binary-messages.js";

const immutable = "public, max-age=31536000, immutable";
/** Data that can change (a movie): a cache may keep it but must ask, cheaply, with If-None-Match. */
const revalidate = "no-cache";

/**
 * HTTP caching for Connect GET, the only way to call a method with HTTP GET
 * (and only one marked NO_SIDE_EFFECTS): a successful answer gets
 * Cache-Control, a weak ETag derived from the message, and
 * `Vary: Accept-Encoding`. Methods `isImmutable` names (the method table's
 * immutable ones) may be kept for a year; the others are data that may change, so caches must revalidate (the
 * ETag makes that cheap). POST answers, streams and errors are left alone.
 * `answerNotModified` turns a request whose If-None-Match matches into 304.
 */
export function cachingInterceptor(isImmutable: (method: DescMethod) => boolean = immutableAnswer): Interceptor {
  // Not async for the other calls: one promise less on every POST.
  return (next) => (req) => (req.requestMethod === "GET" ? cached(next, req, isImmutable) : next(req));
}

function immutableAnswer(method: DescMethod): boolean {
  return policyOf(method)?.immutable === true;
}

/** A GET's answer, with its caching headers. */
async function cached(
  next: Parameters<Interceptor>[0],
  req: Parameters<ReturnType<Interceptor>>[0],
  isImmutable: (method: DescMethod) => boolean,
): ReturnType<ReturnType<Interceptor>> {
  const res = await next(req);
  if (res.stream) return res;
  const binary = req.contextValues.get(binaryMessagesKey).response(req.method.output, res.message);
  const digest = createHash("sha256").update(binary).digest("base64url");
  res.header.set("cache-control", isImmutable(req.method) ? immutable : revalidate);
  res.header.set("etag", `W/"${digest.slice(0, 32)}"`);
  res.header.append("vary", "Accept-Encoding");
  return res;
}

/**
 * Wraps the HTTP handler so that a GET whose If-None-Match names the ETag of
 * the answer gets `304 Not Modified` with no body. The answer is still
 * computed (the ETag is its hash), but not sent.
 */
export function answerNotModified(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    const ifNoneMatch = req.headers["if-none-match"];
    if (req.method === "GET" && typeof ifNoneMatch === "string") {
      const response = res as { writeHead(status: number, headers?: OutgoingHttpHeaders): unknown };
      const writeHead = response.writeHead.bind(res);
      response.writeHead = (status, headers = {}) => {
        const kept = notModified(ifNoneMatch, status, headers);
        // A 304 has no body: Node drops what is written after it (HTTP/1.1) or ends the stream (HTTP/2).
        return kept === undefined ? writeHead(status, headers) : writeHead(304, kept);
      };
    }
    handler(req, res);
  };
}

/**
 * The headers of a 304 that answers a GET whose If-None-Match names the
 * ETag of this successful answer (less what described the body), or
 * undefined when the answer must be sent as it is.
 */
export function notModified(ifNoneMatch: string, status: number, headers: OutgoingHttpHeaders): OutgoingHttpHeaders | undefined {
  const etag = headers.etag;
  if (status !== 200 || typeof etag !== "string" || !etagMatches(ifNoneMatch, etag)) return undefined;
  const { "content-type": _type, "content-length": _length, "content-encoding": _encoding, ...kept } = headers;
  return kept;
}

/** If-None-Match uses the weak comparison: W/"x" matches "x" and W/"x". */
function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((candidate) => opaque(candidate) === opaque(etag));
}

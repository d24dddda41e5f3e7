import { createHash } from "node:crypto";
import type { OutgoingHttpHeaders } from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { binaryMessagesKey } from "../pipeline/binary-messages.js";
import { policyOf } from "../policy/methods.js";

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
 * `notModified` turns the answer to a request whose If-None-Match matches
 * into 304, on both of the dispatcher's paths.
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
 * The headers of a 304 that answers a GET whose If-None-Match names the
 * ETag of this successful answer (less what described the body), or
 * undefined when the answer must be sent as it is.
 */
export function notModified(ifNoneMatch: string, status: number, headers: OutgoingHttpHeaders): OutgoingHttpHeaders | undefined {
  const etag = headers.etag;
  if (status !== 200 || typeof etag !== "string" || !etagMatches(ifNoneMatch, etag)) return undefined;
  const kept = { ...headers };
  for (const name of bodyHeaders) delete kept[name];
  return kept;
}

/** What described the body a 304 does not have. */
const bodyHeaders = ["content-type", "content-length", "content-encoding"];

/** If-None-Match uses the weak comparison: W/"x" matches "x" and W/"x". */
function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((candidate) => opaque(candidate) === opaque(etag));
}

/** `notModified` for connect-node's answer: the answer itself, or a 304 without a body. */
export function notModifiedResponse(ifNoneMatch: string, response: UniversalServerResponse): UniversalServerResponse {
  const etag = response.header?.get("etag");
  if (response.status !== 200 || etag == null || !etagMatches(ifNoneMatch, etag)) return response;
  const header = new Headers(response.header);
  for (const name of bodyHeaders) header.delete(name);
  return { status: 304, header };
}

import * as http2 from "node:http2";
import type { RequestHandler } from "./http-handler.js";

/**
 * The "rapid reset" defence (CVE-2023-44487): a client that opens streams
 * and resets them at once makes the server start work for each (the request
 * handler runs) while its concurrent-stream limit never applies. Client
 * resets are counted per connection in a token bucket that holds `perSecond`
 * resets, refilled at `perSecond` a second, and never less than the
 * connection's concurrent streams (a client may always cancel every call it
 * has open at once, as one whose deadlines all expire together does). Only
 * the client's own resets count: Node reports a stream the server cuts
 * mid-answer the same way ("aborted"), so the server cuts them with
 * resetStream, which this skips. A
 * connection that empties it is closed with GOAWAY(ENHANCE_YOUR_CALM), its
 * streams cut; `onExceeded` is told first, to log it.
 */
export function limitStreamResets(
  session: http2.ServerHttp2Session,
  options: { readonly perSecond: number; readonly burst: number },
  onExceeded: (resets: number) => void,
): void {
  const capacity = Math.max(options.perSecond, options.burst);
  let tokens = capacity;
  let updatedAt = performance.now();
  let resets = 0;
  let exceeded = false;
  // Made once per connection, not per stream: a stream emits "aborted" at
  // most once (when the client resets a stream the server has not finished
  // answering), so a plain listener does what once() would, without its
  // per-stream wrapper.
  const onAborted = function (this: http2.ServerHttp2Stream) {
    if (session.destroyed || serverResets.has(this)) return;
    resets++;
    const now = performance.now();
    tokens = Math.min(capacity, tokens + ((now - updatedAt) / 1_000) * options.perSecond) - 1;
    updatedAt = now;
    if (tokens >= 0 || exceeded) return;
    exceeded = true;
    onExceeded(resets);
    // At once, from inside nghttp2's processing of the client's frames: the
    // rest of what the attacker has sent (megabytes, in one read) is then
    // never processed.
    session.destroy(new StreamResetFlood(resets), http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  };
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.on("aborted", onAborted);
  });
}

/** Streams the server itself reset mid-answer (a fault of ours): not the client's doing. */
const serverResets = new WeakSet<http2.Http2Stream>();

/** Resets a stream from the server's side, without counting it against the client (see limitStreamResets). */
export function resetStream(stream: http2.Http2Stream, code: number): void {
  serverResets.add(stream);
  stream.close(code);
}

/** Why a session was destroyed by limitStreamResets; already logged, so the session's "error" can be ignored. */
export class StreamResetFlood extends Error {
  override name = "StreamResetFlood";
  constructor(readonly resets: number) {
    super(`the client reset ${resets} streams, faster than allowed`);
  }
}

/**
 * Node's and nghttp2's own flood limits, set 40 times looser than the one
 * above so that it acts first: they end the connection with
 * GOAWAY(INTERNAL_ERROR), which tells the client nothing. nghttp2 counts
 * RST_STREAM frames (`streamResetBurst`, `streamResetRate`); Node counts
 * streams it refuses in a row because its own table is full
 * (`maxSessionRejectedStreams`), which a flood reaches within one read, before
 * the streams it reset have left that table. Both stay as backstops.
 */
export function nodeFloodLimits(options: { readonly perSecond: number; readonly burst: number }): {
  streamResetBurst: number;
  streamResetRate: number;
  maxSessionRejectedStreams: number;
} {
  const capacity = Math.max(options.perSecond, options.burst);
  return { streamResetBurst: 40 * capacity, streamResetRate: 40 * options.perSecond, maxSessionRejectedStreams: 40 * capacity };
}

/**
 * Starts each HTTP/2 request's handler on the next turn of the event loop,
 * and not at all if the client has reset the stream by then. A rapid-reset
 * attacker sends each HEADERS frame with its RST_STREAM in the same packet,
 * so its streams end before any RPC work starts: each costs the server
 * microseconds instead of the full setup of a call, and normal clients keep
 * their share of the CPU. Requests read no later for it: their data waits in
 * the stream's buffer.
 */
export function skipResetStreams(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    if (!(req instanceof http2.Http2ServerRequest)) {
      handler(req, res);
      return;
    }
    setImmediate(() => {
      if (!req.stream.destroyed) handler(req, res);
    });
  };
}

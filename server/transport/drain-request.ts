import type { Readable } from "node:stream";

/** How much of a request the server reads and discards after answering it early. */
export interface DrainLimits {
  /** Bytes read at most; past them the rest is refused (RST_STREAM on HTTP/2, the connection closed on HTTP/1.1). */
  readonly maxBytes: number;
  /** Gives up when the client sends nothing for this long: it is waiting, not uploading. */
  readonly idleMs: number;
  /** Gives up after this long in all. */
  readonly maxMs: number;
}

/**
 * The rest of a request the server answered early (an over-size message, an
 * invalid one, a refusal) is read and thrown away, within limits, instead of
 * being cut off. Cut off, it costs an honest client its connection: Node's
 * HTTP/2 client (connect-node's transports, undici; grpc-js lifts the cap)
 * never takes the unsent part of a reset upload off its session's memory
 * count, so a few such calls exhaust maxSessionMemory and it then refuses
 * every answer on that connection with RST_STREAM(ENHANCE_YOUR_CALM). On HTTP/1.1 an unread body
 * means the connection cannot be reused.
 */
export const uploadDrainLimits = (readMaxBytes: number): DrainLimits => ({
  // What an honest client sends with one message somewhat over the limit
  // (its whole body, when the limit refuses it by its announced length), and
  // no more than two calls within the limit would have cost.
  maxBytes: 2 * readMaxBytes,
  // Above a wide-area round trip, during which a client uploading as fast as
  // flow control lets it may send nothing.
  idleMs: 500,
  maxMs: 5_000,
});

/**
 * Reads what is left of `body` and discards it. Resolves true once the client
 * has ended the request, false if it stopped short (a limit, a reset or a
 * closed connection). Reads with read() on "readable", so a body iterator
 * left unfinished by the call (connect-node's) cannot stall it.
 */
export function drainRequest(body: Readable, limits: DrainLimits): Promise<boolean> {
  if (body.readableEnded) return Promise.resolve(true);
  if (body.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let drained = 0;
    const idle = setTimeout(() => finish(false), limits.idleMs);
    const overall = setTimeout(() => finish(false), limits.maxMs);
    const onReadable = () => {
      for (let chunk: unknown = body.read(); chunk !== null; chunk = body.read()) {
        drained += (chunk as Buffer).byteLength;
        if (drained > limits.maxBytes) {
          finish(false);
          return;
        }
        idle.refresh();
      }
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(body.readableEnded);
    const finish = (ended: boolean) => {
      clearTimeout(idle);
      clearTimeout(overall);
      body.off("readable", onReadable);
      body.off("end", onEnd);
      body.off("close", onClose);
      resolve(ended);
    };
    body.on("readable", onReadable);
    body.on("end", onEnd);
    body.on("close", onClose);
    onReadable();
  });
}

import type { ConnectError } from "@connectrpc/connect";
import type { Upload, UploadCall } from "./upload-budget.js";

/**
 * A request body as connect-node reads it (an async iterable of chunks),
 * counted against the upload budget (upload-budget.ts) as it arrives. A
 * stream of messages holds only the message still arriving: connect-node
 * keeps the bytes of an unfinished envelope until the envelope is whole, so
 * what counts is the current envelope, and a message that has begun must
 * be whole within the upload timeout (a stream may wait as long as it likes
 * between messages). Any other body (a Connect unary request) is one unit,
 * held until its end. A chunk the budget refuses, or a read the budget
 * stops, ends the body with the call's reason, which connect-node answers.
 */
export async function* budgetedBody(body: AsyncIterable<Uint8Array>, upload: Upload, enveloped: boolean): AsyncGenerator<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  const stopped = new Promise<never>((_, reject) => {
    upload.stop = () => reject(upload.call.reason);
  });
  // Only ever raced against the next chunk: a stop with no read waiting is noticed at the next one.
  stopped.catch(() => {});
  const envelopes = enveloped ? new EnvelopeCounter() : undefined;
  if (envelopes !== undefined) upload.startedAt = Number.POSITIVE_INFINITY;
  try {
    for (;;) {
      if (upload.call.reason !== undefined) throw upload.call.reason;
      const next = await Promise.race([iterator.next(), stopped]);
      if (next.done === true) return;
      const chunk = next.value;
      if (!upload.take(chunk.byteLength)) throw upload.call.reason;
      if (envelopes !== undefined) {
        const wasArriving = envelopes.arriving;
        const whole = envelopes.push(chunk);
        if (whole > 0) upload.release(whole);
        if (!envelopes.arriving) upload.startedAt = Number.POSITIVE_INFINITY;
        else if (!wasArriving || whole > 0) upload.startedAt = performance.now();
      }
      yield chunk;
    }
  } finally {
    upload.close();
  }
}

/** Finds where the enveloped messages of a stream (5-byte prefix: flags, big-endian length) end, across chunks. */
export class EnvelopeCounter {
  /** Bytes of the current envelope received so far. */
  #received = 0;
  readonly #prefix = new Uint8Array(5);
  /** The current envelope's whole size, once its prefix is in. */
  #size: number | undefined;

  /** True while an envelope has begun and is not whole. */
  get arriving(): boolean {
    return this.#received > 0;
  }

  /** Takes the next chunk; returns the bytes of the envelopes it made whole (begun in earlier chunks too). */
  push(chunk: Uint8Array): number {
    let whole = 0;
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#size === undefined) {
        const take = Math.min(5 - this.#received, chunk.byteLength - at);
        this.#prefix.set(chunk.subarray(at, at + take), this.#received);
        this.#received += take;
        at += take;
        if (this.#received < 5) break;
        this.#size = 5 + new DataView(this.#prefix.buffer).getUint32(1);
      }
      const take = Math.min(this.#size - this.#received, chunk.byteLength - at);
      this.#received += take;
      at += take;
      if (this.#received === this.#size) {
        whole += this.#size;
        this.#received = 0;
        this.#size = undefined;
      }
    }
    return whole;
  }
}

/** A call on connect-node's path, as the budget ends it: the first reason wins, and the body throws it. */
export class BodyCall implements UploadCall {
  reason: ConnectError | undefined;

  abort(reason: ConnectError): void {
    this.reason ??= reason;
  }
}

/** Content types whose body is a stream of enveloped messages (gRPC, gRPC-Web binary, Connect streaming); gRPC-Web text is base64 of them, read whole. */
const envelopedTypes = /^application\/(?:grpc(?!-web-text)|connect\+)/i;

/** Whether a request with this content type sends enveloped messages. */
export function isEnveloped(contentType: string | undefined): boolean {
  return contentType !== undefined && envelopedTypes.test(contentType);
}

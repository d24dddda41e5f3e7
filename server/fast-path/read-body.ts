import type { Readable } from "node:stream";
import type { Upload } from "../transport/upload-budget.js";

export interface Body {
  /** The whole body, when it fit under the cap. */
  readonly bytes: Uint8Array;
  readonly chunks: readonly Buffer[];
  /** What is left to read when the body went over the cap (connect-node reads it). */
  readonly rest: AsyncIterable<Buffer> | undefined;
}

const empty = new Uint8Array(0);

/**
 * Reads the request body whole, up to `cap` bytes; past that it stops and
 * leaves the rest unread. With an `upload`, every chunk is held only within
 * its budget: when the budget refuses one (the call has then ended) or stops
 * the read (the call ended otherwise), reading stops with what arrived, and
 * the caller answers with the call's reason.
 */
export function readBody(stream: Readable, cap: number, upload?: Upload): Promise<Body> {
  if (stream.readableEnded) {
    upload?.close();
    return Promise.resolve({ bytes: empty, chunks: [], rest: undefined });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let finished = false;
    const finish = (rest: AsyncIterable<Buffer> | undefined) => {
      if (finished) return;
      finished = true;
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      upload?.close();
      resolve({ bytes: chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, length), chunks, rest });
    };
    const onData = (chunk: Buffer) => {
      if (upload !== undefined && !upload.take(chunk.byteLength)) {
        stream.pause();
        finish(undefined);
        return;
      }
      chunks.push(chunk);
      length += chunk.byteLength;
      if (length > cap) {
        stream.pause();
        finish(stream.iterator({ destroyOnReturn: false }));
      }
    };
    const onEnd = () => finish(undefined);
    if (upload !== undefined)
      upload.stop = () => {
        stream.pause();
        finish(undefined);
      };
    stream.on("data", onData);
    stream.on("end", onEnd);
    // Reset or cut: what arrived is all there is.
    stream.on("close", onEnd);
  });
}

/** The body again, for connect-node: what was read, then whatever is left on the stream. */
export async function* replay(chunks: readonly Buffer[], rest: AsyncIterable<Buffer> | undefined): AsyncGenerator<Uint8Array> {
  yield* chunks;
  if (rest !== undefined) yield* rest;
}

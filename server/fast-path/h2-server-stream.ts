import type * as http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressedFlag, encodeEnvelope } from "@connectrpc/connect/protocol";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { grpcTrailers, nodeHeaders } from "./answer.js";
import type { CallSignal, StreamOutcome } from "./call.js";
import type { CallBinary } from "./call-binary.js";
import { asConnectError } from "./connect-mirror.js";
import type { CallPlan } from "./plan.js";

/** Envelopes written in one go once this many bytes are waiting (Node's default highWaterMark for a stream). */
const batchBytes = 16 * 1024;

/**
 * Writes a gRPC server stream as connect-node does (headers once the first
 * message is ready, one envelope per message, compressed as
 * transformCompressEnvelope would, trailers with the status), with two
 * differences nobody sees on the wire as different: envelopes produced in
 * the same turn of the event loop go out in one write, and a full stream
 * buffer pauses the implementation until it drains. When the client goes
 * away, the reason is thrown into the messages, as connect-node does when a
 * write fails, so every interceptor sees how the call ended.
 */
export async function writeServerStream(
  stream: http2.ServerHttp2Stream,
  plan: CallPlan,
  outcome: StreamOutcome,
  binary: CallBinary,
  signal: CallSignal,
  compressMinBytes: number,
): Promise<void> {
  const { header, trailer, messages } = outcome;
  const compression = plan.responseCompression;
  const writer = new BatchedWriter(stream);
  let error = outcome.error;
  if (messages !== undefined) {
    try {
      for (;;) {
        const next = await messages.next();
        if (next.done === true) break;
        if (gone(stream)) {
          await messages.throw?.(signal.reason ?? new ConnectError("the client left", Code.Canceled)).catch(() => {});
          return;
        }
        let bytes: Uint8Array;
        try {
          bytes = binary.serialize(next.value);
        } catch (serializeError) {
          error = ConnectError.from(serializeError, Code.Internal);
          await messages.throw?.(error).catch(() => {});
          break;
        }
        if (!writer.started) writer.start(header);
        const envelope =
          compression !== null && bytes.byteLength >= compressMinBytes
            ? encodeEnvelope(compressedFlag, await compression.compress(bytes))
            : encodeEnvelope(0, bytes);
        if (!writer.write(envelope)) await writer.drained();
      }
      if (error === undefined) outcome.settleTrailer();
    } catch (thrown) {
      error = asConnectError(thrown);
    }
  }
  if (gone(stream)) return;
  if (error !== undefined) setTrailerStatus(trailer, error);
  writer.end(header, grpcTrailers(trailer));
}

function gone(stream: http2.ServerHttp2Stream): boolean {
  return stream.destroyed || stream.closed;
}

/**
 * Envelopes written together: those produced while the implementation runs
 * without waiting go out in one write when the turn's microtasks are done
 * (process.nextTick runs after them), or as soon as a batch is full.
 */
class BatchedWriter {
  started = false;
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #scheduled = false;

  constructor(private readonly stream: http2.ServerHttp2Stream) {}

  /** Sends the response headers; trailers follow at `end`. */
  start(header: Headers): void {
    this.started = true;
    const headers = nodeHeaders(header);
    headers[":status"] = 200;
    this.stream.respond(headers, { waitForTrailers: true });
  }

  /** Queues an envelope; false when the stream's buffer is full and the writer should wait for `drained`. */
  write(envelope: Uint8Array): boolean {
    this.#parts.push(envelope);
    this.#bytes += envelope.byteLength;
    if (this.#bytes >= batchBytes) return this.#flush();
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flushLater);
    }
    return !this.stream.writableNeedDrain;
  }

  /** Resolves when the stream can take more, or is gone. */
  drained(): Promise<void> {
    const stream = this.stream;
    if (!stream.writableNeedDrain || gone(stream)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
    });
  }

  /** Sends what is queued, then the trailers, and ends the stream (headers first if no message went out). */
  end(header: Headers, trailers: http2.OutgoingHttpHeaders): void {
    if (!this.started) this.start(header);
    this.stream.once("wantTrailers", () => {
      try {
        this.stream.sendTrailers(trailers);
      } catch {
        // The stream is gone: nothing more reaches the client.
      }
    });
    const rest = this.#take();
    this.stream.end(rest);
  }

  #flushLater = (): void => {
    this.#scheduled = false;
    if (!gone(this.stream)) this.#flush();
  };

  #flush(): boolean {
    const data = this.#take();
    if (data === undefined) return !this.stream.writableNeedDrain;
    return this.stream.write(data);
  }

  #take(): Uint8Array | undefined {
    const parts = this.#parts;
    if (parts.length === 0) return undefined;
    const data = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, this.#bytes);
    this.#parts = [];
    this.#bytes = 0;
    return data;
  }
}

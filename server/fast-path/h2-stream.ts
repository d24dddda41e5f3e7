import { once } from "node:events";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { Logger } from "../logger.js";
import { type DrainLimits, drainRequest, uploadDrainLimits } from "../transport/drain-request.js";
import { resetStream } from "../transport/stream-resets.js";
import { type Answer, nodeHeaders, respellGrpcMessage } from "./answer.js";
import { clientGone } from "./connect-mirror.js";
import type { Exchange, FastPath } from "./fast-path.js";
import { writeServerStream } from "./h2-server-stream.js";
import type { CallPlan } from "./plan.js";
import { readBody, replay } from "./read-body.js";

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/**
 * Serves a unary call or a gRPC server stream on an HTTP/2 stream with Node's core API (no
 * Http2ServerRequest/Response). The dispatcher calls it for streams `plan`
 * accepted; everything else takes the compatibility path to connect-node.
 */
export async function serveStream(
  fast: FastPath,
  plan: CallPlan,
  stream: http2.ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): Promise<void> {
  const started = performance.now();
  const signal = fast.begin(plan);
  const onClose = () => signal.abort(clientGone(stream.rstCode));
  stream.on("close", onClose);
  try {
    const socket = stream.session?.socket;
    const body = await readBody(stream, plan.bodyCap, fast.options.uploads.open(stream.session, socket?.remoteAddress, signal));
    const exchange: Exchange = {
      httpVersion: "2.0",
      headers,
      scheme: socket !== undefined && "encrypted" in socket && socket.encrypted === true ? "https" : "http",
      authority: (headers[":authority"] ?? headers.host ?? "") as string,
      target: (headers[":path"] ?? "") as string,
      remoteAddress: socket?.remoteAddress,
      connection: stream.session,
    };
    const handBack = () => replay(body.chunks, body.rest);
    if (plan.entry.kind === "server_streaming") {
      const result = await fast.openStream(plan, exchange, body.bytes, signal, started, handBack);
      if (result.kind === "stream")
        await writeServerStream(stream, plan, result.outcome, result.binary, signal, fast.options.compressMinBytes);
      // Handed back to connect-node: its answer is a stream too (a watch never ends), written as it comes.
      else await relay(stream, result.response, plan, uploadDrainLimits(fast.options.readMaxBytes));
      return;
    }
    const result = await fast.serve(plan, exchange, body.bytes, signal, started, handBack);
    if (result?.kind === "answer") respond(stream, result.answer, undefined);
    else if (result !== undefined) respond(stream, await collect(result.response, plan), uploadDrainLimits(fast.options.readMaxBytes));
  } finally {
    stream.off("close", onClose);
    fast.end(signal);
  }
}

/**
 * Writes connect-node's answer to a server-streaming call as it comes:
 * headers at once, each chunk as connect-node yields it (waiting when the
 * client reads slowly), then the trailers it ends with. Collecting it first
 * would hold a stream that never ends (a watch) unanswered forever.
 */
async function relay(
  stream: http2.ServerHttp2Stream,
  response: UniversalServerResponse,
  plan: CallPlan,
  early: DrainLimits,
): Promise<void> {
  if (stream.destroyed || stream.closed) return;
  const headers = nodeHeaders(response.header ?? new Headers());
  headers[":status"] = response.status;
  stream.respond(headers, { waitForTrailers: true });
  stream.once("wantTrailers", () => {
    try {
      stream.sendTrailers(response.trailer === undefined ? {} : trailersOf(response.trailer, plan));
    } catch {
      // The stream is gone: nothing more reaches the client.
    }
    // As respond() does for an answer that may have come before the request's end.
    void drainRequest(stream, early).then((ended) => {
      if (!ended && !stream.destroyed && stream.state.remoteClose === 0) stream.close(NGHTTP2_NO_ERROR);
    });
  });
  if (response.body !== undefined) {
    for await (const chunk of response.body) {
      if (stream.destroyed) return;
      if (!stream.write(chunk)) await once(stream, "drain").catch(() => undefined);
    }
  }
  if (!stream.destroyed) stream.end();
}

/** A connect-node answer's trailers as Node sends them, `grpc-message` respelled for gRPC. */
function trailersOf(trailer: Headers, plan: CallPlan): OutgoingHttpHeaders {
  const trailers = nodeHeaders(trailer);
  const message = trailers["grpc-message"];
  if (plan.protocol === "grpc" && typeof message === "string") trailers["grpc-message"] = respellGrpcMessage(message);
  return trailers;
}

/** A connect-node answer (a few chunks: a unary answer, or the error a handed-back request gets), as one Answer. */
async function collect(response: UniversalServerResponse, plan: CallPlan): Promise<Answer> {
  const chunks: Uint8Array[] = [];
  if (response.body !== undefined) for await (const chunk of response.body) chunks.push(chunk);
  const trailers = response.trailer === undefined ? undefined : trailersOf(response.trailer, plan);
  return { status: response.status, headers: nodeHeaders(response.header ?? new Headers()), body: Buffer.concat(chunks), trailers };
}

/**
 * Writes the answer: HEADERS, the body, and trailers for gRPC. A request
 * that may have been answered before it was read to its end (connect-node's
 * answers to what the fast path handed back: `early` says how much of the rest
 * to read) is then read to its end and discarded (see drainRequest); only a
 * client that goes on past that gets RST_STREAM(NO_ERROR) (RFC 9113 §8.1).
 */
function respond(stream: http2.ServerHttp2Stream, answer: Answer, early: DrainLimits | undefined): void {
  if (stream.destroyed || stream.closed) return;
  const { status, headers, trailers } = answer;
  // The answer's headers are its own (a new object): Node copies them as it sends them.
  headers[":status"] = status;
  if (status === 304) {
    // Node ends a 304's stream as it sends the headers: nothing may follow.
    stream.respond(headers, { endStream: true });
    return;
  }
  if (trailers === undefined && early === undefined) {
    stream.respond(headers);
    stream.end(answer.body);
    return;
  }
  stream.respond(headers, { waitForTrailers: true });
  stream.once("wantTrailers", () => {
    try {
      stream.sendTrailers(trailers ?? {});
    } catch {
      // The stream is gone: nothing more reaches the client.
    }
    if (early !== undefined) {
      void drainRequest(stream, early).then((ended) => {
        if (!ended && !stream.destroyed && stream.state.remoteClose === 0) stream.close(NGHTTP2_NO_ERROR);
      });
    }
  });
  stream.end(answer.body.byteLength === 0 ? undefined : answer.body);
}

/**
 * What containFailures does for the compatibility path: a fault of ours
 * fails this stream only (INTERNAL, or a reset once the answer has begun),
 * with a log line.
 */
export function failStream(
  stream: http2.ServerHttp2Stream,
  plan: CallPlan,
  headers: IncomingHttpHeaders,
  error: unknown,
  logger: Logger,
): void {
  const requestId = headers["x-request-id"];
  logger.error(
    {
      err: error,
      method: headers[":method"],
      path: headers[":path"],
      http: "2.0",
      remoteAddress: stream.session?.socket?.remoteAddress,
      ...(typeof requestId === "string" ? { requestId } : {}),
    },
    "request failed with an unexpected error",
  );
  try {
    if (stream.destroyed || stream.closed) return;
    if (stream.headersSent) {
      resetStream(stream, NGHTTP2_INTERNAL_ERROR);
    } else if (plan.protocol === "connect") {
      stream.respond({ ":status": 500, "content-type": "application/json" });
      stream.end(JSON.stringify({ code: "internal", message: "internal error" }));
    } else {
      const contentType = headers["content-type"] ?? "";
      stream.respond(
        { ":status": 500, "content-type": contentType, "grpc-status": String(Code.Internal), "grpc-message": "internal error" },
        { endStream: true },
      );
    }
  } catch {
    stream.destroy();
  }
}

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { JsonWriteOptions } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressedFlag, encodeEnvelope, mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes, trailerMux } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { notModified } from "../interceptors/caching.js";
import { encodeGrpcMessage } from "../transport/grpc-message.js";
import type { Outcome } from "./call.js";
import type { CallBinary } from "./call-binary.js";
import { PlainHeaders } from "./plain-headers.js";
import type { CallPlan } from "./plan.js";

/** A complete answer, ready to write: HTTP status, headers, body, and HTTP trailers (gRPC only). */
export interface Answer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Uint8Array;
  readonly trailers: OutgoingHttpHeaders | undefined;
}

type AnswerOptions = { readonly compressMinBytes: number; readonly jsonOptions: Partial<JsonWriteOptions> };

/**
 * Writes a call's outcome in its protocol's form, byte for byte as
 * connect-es's handlers do (same helpers for envelopes, trailers, error JSON
 * and compression), and with `grpc-message` in the gRPC spec's encoding as
 * the server's other answers (see normalizeGrpcMessageTrailers). Without a
 * response compression nothing waits, and the answer comes at once.
 */
export function answerOf(plan: CallPlan, outcome: Outcome, binary: CallBinary, options: AnswerOptions): Answer | Promise<Answer> {
  if (plan.responseCompression !== null) return compressedAnswerOf(plan, outcome, binary, options);
  const { header, trailer } = outcome;
  const { error, body } = serialized(outcome, binary);
  if (plan.protocol === "connect") return connectAnswer(plan, header, trailer, error, body, options);
  if (error !== undefined) setTrailerStatus(trailer, error);
  const message = body === undefined ? undefined : encodeEnvelope(0, body);
  if (plan.protocol === "grpc-web") {
    const end = encodeEnvelope(trailerFlag, trailerSerialize(trailer));
    return { status: 200, headers: nodeHeaders(header), body: join(message === undefined ? [end] : [message, end]), trailers: undefined };
  }
  return { status: 200, headers: nodeHeaders(header), body: message ?? new Uint8Array(0), trailers: grpcTrailers(trailer) };
}

/**
 * A Connect GET's answer, or `304 Not Modified` (no body) when the
 * request's If-None-Match names the answer's ETag: the answer was still
 * computed, since the ETag is its hash (see caching.ts).
 */
export function revalidated(answer: Answer, request: IncomingHttpHeaders): Answer {
  const ifNoneMatch = request["if-none-match"];
  const kept = typeof ifNoneMatch === "string" ? notModified(ifNoneMatch, answer.status, answer.headers) : undefined;
  return kept === undefined ? answer : { status: 304, headers: kept, body: new Uint8Array(0), trailers: undefined };
}

/** answerOf when the client accepts a response compression. */
async function compressedAnswerOf(plan: CallPlan, outcome: Outcome, binary: CallBinary, options: AnswerOptions): Promise<Answer> {
  const { header, trailer } = outcome;
  const { error, body } = serialized(outcome, binary);
  if (plan.protocol === "connect") return await connectAnswer(plan, header, trailer, error, body, options);
  if (error !== undefined) setTrailerStatus(trailer, error);
  const envelopes: Uint8Array[] = [];
  if (body !== undefined) envelopes.push(await envelope(plan, 0, body, options.compressMinBytes));
  if (plan.protocol === "grpc-web") {
    envelopes.push(await envelope(plan, trailerFlag, trailerSerialize(trailer), options.compressMinBytes));
    return { status: 200, headers: nodeHeaders(header), body: join(envelopes), trailers: undefined };
  }
  return { status: 200, headers: nodeHeaders(header), body: join(envelopes), trailers: grpcTrailers(trailer) };
}

/** The response message's bytes, or the error that ends the call (the call's own, or failing to serialize). */
function serialized(outcome: Outcome, binary: CallBinary): { error: ConnectError | undefined; body: Uint8Array | undefined } {
  if (outcome.error !== undefined) return { error: outcome.error, body: undefined };
  try {
    return { error: undefined, body: binary.serialize(outcome.message as NonNullable<Outcome["message"]>) };
  } catch (serializeError) {
    return { error: ConnectError.from(serializeError, Code.Internal), body: undefined };
  }
}

/** A Connect unary answer: the message or the error's JSON, trailers as `trailer-` headers. */
function connectAnswer(
  plan: CallPlan,
  header: Headers,
  trailer: Headers,
  error: ConnectError | undefined,
  body: Uint8Array | undefined,
  options: AnswerOptions,
): Answer | Promise<Answer> {
  let status = 200;
  if (error !== undefined) {
    status = codeToHttpStatus(error.code);
    header.set("content-type", "application/json");
    if (!error.isWireError) mergeNonProtocolHeaders(header, error.metadata);
    body = errorToJsonBytes(error, options.jsonOptions);
  }
  const bytes = body ?? new Uint8Array(0);
  const compression = plan.responseCompression;
  if (compression !== null && bytes.byteLength >= options.compressMinBytes) {
    return compression.compress(bytes).then((compressed) => {
      header.set("content-encoding", compression.name);
      return connectAnswerWith(status, header, trailer, compressed);
    });
  }
  return connectAnswerWith(status, header, trailer, bytes);
}

function connectAnswerWith(status: number, header: Headers, trailer: Headers, bytes: Uint8Array): Answer {
  const length = bytes.byteLength.toString(10);
  const headers = PlainHeaders.muxToNode(header, trailer, length) ?? muxToNode(header, trailer, length);
  return { status, headers, body: bytes, trailers: undefined };
}

/** gRPC's HTTP trailers, `grpc-message` respelled. */
export function grpcTrailers(trailer: Headers): OutgoingHttpHeaders {
  const trailers = nodeHeaders(trailer);
  const message = trailers["grpc-message"];
  if (typeof message === "string") trailers["grpc-message"] = respellGrpcMessage(message);
  return trailers;
}

/** One envelope, compressed (flag 1) when the client accepts a compression and it is at least COMPRESS_MIN_BYTES, as transformCompressEnvelope does. */
async function envelope(plan: CallPlan, flags: number, data: Uint8Array, compressMinBytes: number): Promise<Uint8Array> {
  if (plan.responseCompression !== null && data.byteLength >= compressMinBytes) {
    return encodeEnvelope(flags | compressedFlag, await plan.responseCompression.compress(data));
  }
  return encodeEnvelope(flags, data);
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  return Buffer.concat(parts);
}

/** Headers as Node writes them, as connect-node's webHeaderToNodeHeaders makes them. */
export function nodeHeaders(headers: Headers): OutgoingHttpHeaders {
  return PlainHeaders.toNode(headers);
}

/** connect-es's trailerMux, with the content length, as Node writes it. */
function muxToNode(header: Headers, trailer: Headers, contentLength: string): OutgoingHttpHeaders {
  const headers = trailerMux(header, trailer);
  headers.set("content-length", contentLength);
  return nodeHeaders(headers);
}

/** connect-es percent-encodes grpc-message with encodeURIComponent; this is the gRPC spec's narrower form. */
export function respellGrpcMessage(message: string): string {
  try {
    return encodeGrpcMessage(decodeURIComponent(message));
  } catch {
    return message;
  }
}

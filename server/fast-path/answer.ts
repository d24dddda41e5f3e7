import type { OutgoingHttpHeaders } from "node:http";
import type { JsonWriteOptions } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressedFlag, encodeEnvelope, mergeNonProtocolHeaders } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes, trailerMux } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { encodeGrpcMessage } from "../transport/grpc-message.js";
import type { Outcome } from "./call.js";
import type { CallPlan } from "./plan.js";

/** A complete answer, ready to write: HTTP status, headers, body, and HTTP trailers (gRPC only). */
export interface Answer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Uint8Array;
  readonly trailers: OutgoingHttpHeaders | undefined;
}

/**
 * Writes a call's outcome in its protocol's form, byte for byte as
 * connect-es's handlers do (same helpers for envelopes, trailers, error JSON
 * and compression), and with `grpc-message` in the gRPC spec's encoding as
 * the server's other answers (see normalizeGrpcMessageTrailers).
 */
export async function answerOf(
  plan: CallPlan,
  outcome: Outcome,
  options: { readonly compressMinBytes: number; readonly jsonOptions: Partial<JsonWriteOptions> },
): Promise<Answer> {
  const { header, trailer } = outcome;
  let error = outcome.error;
  let body: Uint8Array | undefined;
  if (error === undefined) {
    try {
      body = plan.entry.serialization.getO(plan.binary).serialize(outcome.message as NonNullable<Outcome["message"]>);
    } catch (serializeError) {
      error = ConnectError.from(serializeError, Code.Internal);
    }
  }
  if (plan.protocol === "connect") {
    let status = 200;
    if (error !== undefined) {
      status = codeToHttpStatus(error.code);
      header.set("content-type", "application/json");
      if (!error.isWireError) mergeNonProtocolHeaders(header, error.metadata);
      body = errorToJsonBytes(error, options.jsonOptions);
    }
    let bytes = body ?? new Uint8Array(0);
    if (plan.responseCompression !== null && bytes.byteLength >= options.compressMinBytes) {
      bytes = await plan.responseCompression.compress(bytes);
      header.set("content-encoding", plan.responseCompression.name);
    }
    const headers = trailerMux(header, trailer);
    headers.set("content-length", bytes.byteLength.toString(10));
    return { status, headers: nodeHeaders(headers), body: bytes, trailers: undefined };
  }
  if (error !== undefined) setTrailerStatus(trailer, error);
  const envelopes: Uint8Array[] = [];
  if (body !== undefined) envelopes.push(await envelope(plan, 0, body, options.compressMinBytes));
  if (plan.protocol === "grpc-web") {
    envelopes.push(await envelope(plan, trailerFlag, trailerSerialize(trailer), options.compressMinBytes));
    return { status: 200, headers: nodeHeaders(header), body: join(envelopes), trailers: undefined };
  }
  const trailers = nodeHeaders(trailer);
  const message = trailers["grpc-message"];
  if (typeof message === "string") trailers["grpc-message"] = respellGrpcMessage(message);
  return { status: 200, headers: nodeHeaders(header), body: join(envelopes), trailers };
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
  const result: OutgoingHttpHeaders = Object.create(null);
  headers.forEach((value, key) => {
    result[key] = value;
  });
  return result;
}

/** connect-es percent-encodes grpc-message with encodeURIComponent; this is the gRPC spec's narrower form. */
export function respellGrpcMessage(message: string): string {
  try {
    return encodeGrpcMessage(decodeURIComponent(message));
  } catch {
    return message;
  }
}

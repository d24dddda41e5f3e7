import type { ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, encodeEnvelope, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/**
 * An error, written as each protocol's clients read it, for a call answered
 * before any interceptor ran: the HTTP status of its code and a JSON body
 * (Connect unary), grpc-status in the trailers (gRPC), or in a trailer
 * message (gRPC-Web). `header` is kept, less what described another body.
 */
export function errorAnswer(protocol: "grpc" | "grpc-web" | "connect", error: ConnectError, header: Headers): UniversalServerResponse {
  switch (protocol) {
    case "grpc":
      return { status: 200, header, trailer: setTrailerStatus(new Headers(), error) };
    case "grpc-web": {
      const trailer = trailerSerialize(setTrailerStatus(new Headers(), error));
      return { status: 200, header, body: createAsyncIterable([encodeEnvelope(trailerFlag, trailer)]) };
    }
    case "connect": {
      const body = errorToJsonBytes(error, {});
      header.set("content-type", "application/json");
      header.delete("content-encoding");
      header.set("content-length", String(body.byteLength));
      return { status: codeToHttpStatus(error.code), header, body: createAsyncIterable([body]) };
    }
  }
}

/**
 * A refusal that comes before any call (415, 405, 505: an HTTP status and no
 * body, from connect-es), with its reason added: in grpc-status and
 * grpc-message for gRPC and gRPC-Web clients, as grpc-go does, and in a
 * plain-text body for everyone else, which curl shows.
 */
export function refusalAnswer(
  protocol: "grpc" | "grpc-web" | "connect",
  status: number,
  reason: ConnectError,
  header: Headers,
): UniversalServerResponse {
  if (protocol !== "connect") return { status, header: setTrailerStatus(header, reason) };
  const body = new TextEncoder().encode(`${reason.rawMessage}\n`);
  header.set("content-type", "text/plain; charset=utf-8");
  header.set("content-length", String(body.byteLength));
  return { status, header, body: createAsyncIterable([body]) };
}

/** Ends a response body that will not be sent (at most an error connect-es already serialized). */
export async function discardBody(res: UniversalServerResponse): Promise<void> {
  if (res.body === undefined) return;
  await res.body[Symbol.asyncIterator]()
    .return?.()
    .catch(() => {});
}

import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";

/*
 * What metrics and spans say about a call, in the words of the OpenTelemetry
 * RPC semantic conventions as they stand now (stable in semconv 1.45: the
 * version @opentelemetry/semantic-conventions 1.45 carries): `rpc.system.name`,
 * the fully-qualified `rpc.method` ("package.Service/Method", `_OTHER` for a
 * method the server does not have), `rpc.status_code` as the gRPC status
 * name, and `network.protocol.version`. Every value comes from a small fixed
 * set, so no request can add a label value of its own choosing.
 */

/** The wire protocol of a call, as the server logs it; "rest" is HTTP/JSON transcoded from google.api.http (server/rest/). */
export type Protocol = "grpc" | "grpc-web" | "connect" | "rest";

/** `rpc.method` (and our `rpc_service`) for a request no registered procedure answers. */
export const otherMethod = "_OTHER";

/**
 * `rpc.system.name`: gRPC-Web is gRPC carried differently; Connect is its
 * own system; REST is what google/api/http.proto calls gRPC transcoding, the
 * gRPC methods reached as HTTP/JSON resources.
 */
export function rpcSystemName(protocol: Protocol): "grpc" | "connectrpc" {
  return protocol === "connect" ? "connectrpc" : "grpc";
}

/** The protocol as a metric label value: grpc, grpc_web, connect or rest. */
export function protocolLabel(protocol: Protocol): "grpc" | "grpc_web" | "connect" | "rest" {
  return protocol === "grpc-web" ? "grpc_web" : protocol;
}

/** `network.protocol.version`: "1.1", "2" or "1.0"; anything else (there is nothing else in Node) is "other". */
export function networkProtocolVersion(httpVersion: string): string {
  switch (httpVersion) {
    case "2.0":
    case "2":
      return "2";
    case "1.1":
    case "1.0":
      return httpVersion;
    default:
      return "other";
  }
}

const statusNames = new Map<Code | undefined, string>([[undefined, "OK"]]);
for (const value of Object.values(Code)) {
  if (typeof value === "number") statusNames.set(value, codeToString(value).toUpperCase());
}
// Connect spells it "canceled"; gRPC's status name is CANCELLED.
statusNames.set(Code.Canceled, "CANCELLED");

/** The call's outcome as `rpc.status_code`: "OK", or the gRPC status name of the error ("INVALID_ARGUMENT"). */
export function statusCodeName(error: unknown): string {
  return statusNames.get(error === undefined ? undefined : ConnectError.from(error).code) ?? "UNKNOWN";
}

/** The gRPC status number of the call's outcome (0 for OK). */
export function statusCodeNumber(error: unknown): number {
  return error === undefined ? 0 : ConnectError.from(error).code;
}

/**
 * Statuses that mean the server failed, not the client: their spans are
 * marked as errors (semconv: for gRPC servers, UNKNOWN, DEADLINE_EXCEEDED,
 * UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS).
 */
const serverErrors = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

export function isServerError(error: unknown): boolean {
  return error !== undefined && serverErrors.has(ConnectError.from(error).code);
}

import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * What the fast path copies from connect-es because the package does not
 * export it: the behaviours below must stay those of the installed
 * @connectrpc/connect and @connectrpc/connect-node, which are pinned in
 * package.json. test/unit/connect-mirror.test.ts fails as soon as another
 * version is installed: re-read each source named in `mirrored` in the new
 * version, bring the copy in line, run test/e2e/fast-path.test.ts (both
 * paths answer byte for byte alike), then change this version.
 *
 * The small copies live here; the ones woven into a class or a writer stay
 * where they work, and `mirrored` names them too.
 */
export const mirroredConnectVersion = "2.3.0";

/** Each copy: where it is here, and what it copies in connect-es (package, file under src/, function). */
export const mirrored: ReadonlyArray<{ readonly ours: string; readonly theirs: string }> = [
  { ours: "connect-mirror.ts applyInterceptors", theirs: "connect interceptor.ts applyInterceptors" },
  { ours: "connect-mirror.ts ensureSingle", theirs: "connect protocol/invoke-implementation.ts ensureSingle" },
  { ours: "connect-mirror.ts normalized", theirs: "connect protocol/normalize.ts normalizeIterable" },
  { ours: "connect-mirror.ts copyHeaders", theirs: "connect protocol/invoke-implementation.ts copyHeaders" },
  { ours: "connect-mirror.ts asConnectError", theirs: "connect protocol-*/handler-factory.ts (errors that are not a ConnectError)" },
  { ours: "connect-mirror.ts deadlineExceeded", theirs: "connect protocol/signals.ts createDeadlineSignal" },
  { ours: "connect-mirror.ts clientGone", theirs: "connect-node node-error.ts connectErrorFromH2ResetCode" },
  { ours: "call.ts handlerContext", theirs: "connect protocol/invoke-implementation.ts mergeRequest (createHandlerContext)" },
  { ours: "call.ts prepare", theirs: "connect protocol-*/handler-factory.ts (response header and trailer a call starts with)" },
  { ours: "plain-headers.ts PlainHeaders.toNode", theirs: "connect-node node-universal-header.ts webHeaderToNodeHeaders" },
  { ours: "lazy-headers.ts LazyHeaders", theirs: "connect-node node-universal-header.ts nodeHeaderToWebHeader" },
  { ours: "plan.ts planCall", theirs: "connect protocol-*/content-type.ts, protocol-*/parse-timeout.ts, protocol-connect/get-request.ts" },
  { ours: "request-body.ts decodeRequest", theirs: "connect protocol/envelope.ts, protocol/compression.ts (one request envelope)" },
  { ours: "h2-server-stream.ts writeServerStream", theirs: "connect-node node-universal-handler.ts universalResponseToNodeResponse" },
];

/** The interceptors around `next`, the first one outermost. */
export function applyInterceptors<Chain>(next: Chain, interceptors: readonly Interceptor[]): Chain {
  let chain = next;
  for (let i = interceptors.length - 1; i >= 0; i--) chain = (interceptors[i] as Interceptor)(chain as never) as Chain;
  return chain;
}

/** A server-streaming call has exactly one request message. */
export async function ensureSingle<T>(messages: AsyncIterable<T>): Promise<T> {
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) {
    throw new ConnectError("protocol error: missing input message for server-streaming method", Code.Unimplemented);
  }
  const second = await it.next();
  if (second.done !== true) {
    throw new ConnectError("protocol error: received extra input message for server-streaming method", Code.Unimplemented);
  }
  return first.value;
}

/** Each partial message the implementation yields, as a full one. */
export async function* normalized<Desc extends DescMessage>(
  schema: Desc,
  messages: AsyncIterable<MessageInitShape<Desc>>,
): AsyncGenerator<MessageShape<Desc>> {
  for await (const message of messages) yield create(schema, message);
}

/** `to` ends up holding exactly what `from` holds. */
export function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const key of [...to.keys()]) to.delete(key);
  from.forEach((value, key) => {
    to.set(key, value);
  });
}

/** What a call answers for an error that is not a ConnectError. */
export function asConnectError(error: unknown): ConnectError {
  return error instanceof ConnectError ? error : new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/** Why a call ends when its deadline passes. */
export function deadlineExceeded(): ConnectError {
  return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}

/** HTTP/2 error codes by value (RFC 9113 §7). */
const h2ErrorNames = [
  "NO_ERROR",
  "PROTOCOL_ERROR",
  "INTERNAL_ERROR",
  "FLOW_CONTROL_ERROR",
  "SETTINGS_TIMEOUT",
  "STREAM_CLOSED",
  "FRAME_SIZE_ERROR",
  "REFUSED_STREAM",
  "CANCEL",
  "COMPRESSION_ERROR",
  "CONNECT_ERROR",
  "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
];
const h2ErrorCodes: Readonly<Record<string, Code>> = {
  PROTOCOL_ERROR: Code.Internal,
  INTERNAL_ERROR: Code.Internal,
  FLOW_CONTROL_ERROR: Code.Internal,
  SETTINGS_TIMEOUT: Code.Internal,
  FRAME_SIZE_ERROR: Code.Internal,
  COMPRESSION_ERROR: Code.Internal,
  CONNECT_ERROR: Code.Internal,
  REFUSED_STREAM: Code.Unavailable,
  CANCEL: Code.Canceled,
  ENHANCE_YOUR_CALM: Code.ResourceExhausted,
  INADEQUATE_SECURITY: Code.PermissionDenied,
  HTTP_1_1_REQUIRED: Code.PermissionDenied,
};

/** Why the call ends when its HTTP/2 stream closes first, from the stream's reset code. */
export function clientGone(rstCode: number | undefined): ConnectError {
  const name = rstCode === undefined ? undefined : h2ErrorNames[rstCode];
  const code = name === undefined ? undefined : h2ErrorCodes[name];
  if (rstCode === undefined || code === undefined) return new ConnectError("This operation was aborted", Code.Canceled);
  return new ConnectError(`http/2 stream closed with error code ${name} (0x${rstCode.toString(16)})`, code);
}

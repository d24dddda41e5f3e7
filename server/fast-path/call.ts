import type { IncomingHttpHeaders } from "node:http";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type HandlerContext,
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { contentTypeUnaryJson, contentTypeUnaryProto } from "@connectrpc/connect/protocol-connect";
import { contentTypeJson as grpcJson, contentTypeProto as grpcProto } from "@connectrpc/connect/protocol-grpc";
import { contentTypeJson as grpcWebJson, contentTypeProto as grpcWebProto } from "@connectrpc/connect/protocol-grpc-web";
import { LazyHeaders } from "./lazy-headers.js";
import type { FastMethod } from "./methods.js";
import { PlainHeaders } from "./plain-headers.js";
import type { CallPlan } from "./plan.js";

/** How a call ended: its message or error, and the response header and trailer the interceptors and the implementation left. */
export interface Outcome {
  readonly message: MessageShape<DescMessage> | undefined;
  readonly error: ConnectError | undefined;
  readonly header: Headers;
  readonly trailer: Headers;
}

/** Facts about the HTTP request behind a call. */
export interface CallSource {
  readonly headers: IncomingHttpHeaders;
  /** "https" or "http", and the authority, for the call's URL (built only if read). */
  readonly scheme: string;
  readonly authority: string;
  readonly target: string;
  readonly contextValues: ContextValues;
}

/**
 * A running call's signal: aborted, with a ConnectError as the reason, only
 * when the call ends early (deadline, client gone, shutdown). A call that
 * ends normally never aborts it, so it never builds a DOMException.
 */
export class CallSignal {
  readonly controller = new AbortController();
  done = false;
  timer: NodeJS.Timeout | undefined;

  abort(reason: ConnectError): void {
    if (this.done || this.controller.signal.aborted) return;
    this.controller.abort(reason);
  }

  /** The call is over; its deadline timer goes. */
  finish(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

/** The deadline, as connect-es arms it: the signal is aborted with DEADLINE_EXCEEDED when it passes. */
export function armDeadline(signal: CallSignal, timeoutMs: number | undefined): void {
  if (timeoutMs === undefined) return;
  const expire = () => signal.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
  if (timeoutMs <= 0) expire();
  else signal.timer = setTimeout(expire, timeoutMs);
}

/** What the innermost step (the implementation) needs of one call; it travels in the call's context values. */
interface CallFrame {
  readonly plan: CallPlan;
  readonly responseHeader: Headers;
  readonly responseTrailer: Headers;
  readonly timeoutMs: () => number | undefined;
  readonly url: () => string;
  readonly abort: (reason?: unknown) => void;
}

const frameKey = createContextKey<CallFrame | undefined>(undefined, { description: "fast path call" });

/** A unary method's interceptor chain around its implementation. */
export type UnaryChain = (req: UnaryRequest) => Promise<UnaryResponse>;

/**
 * The interceptors (outermost first, as connect-es's applyInterceptors wraps
 * them) around the method's implementation, composed once per method: the
 * server's interceptors keep no state per `next`, only per call.
 */
export function composeUnary(entry: FastMethod, interceptors: readonly Interceptor[]): UnaryChain {
  const { method, service } = entry;
  const implementation = async (req: UnaryRequest): Promise<UnaryResponse> => {
    const frame = req.contextValues.get(frameKey);
    if (frame === undefined) throw new ConnectError("the call's context values were replaced", Code.Internal);
    const { plan, responseHeader, responseTrailer, url } = frame;
    // The implementation's context, as connect-es's mergeRequest makes it.
    const merged: HandlerContext & { abort(reason?: unknown): void } = {
      method,
      service: req.service,
      signal: req.signal,
      timeoutMs: frame.timeoutMs,
      requestMethod: plan.requestMethod,
      requestHeader: req.header,
      responseHeader,
      responseTrailer,
      protocolName: plan.protocol,
      values: req.contextValues,
      get url() {
        return url();
      },
      abort: frame.abort,
    };
    const output = await entry.impl(req.message, merged);
    return {
      stream: false,
      message: create(method.output, output as never),
      method: req.method,
      service,
      header: responseHeader,
      trailer: responseTrailer,
    };
  };
  let next: UnaryChain = implementation;
  for (let i = interceptors.length - 1; i >= 0; i--) next = (interceptors[i] as Interceptor)(next as never) as UnaryChain;
  return next;
}

/**
 * Runs one unary call through its method's chain (`composeUnary`: the same
 * interceptor array connect-node runs, and the service implementation), as
 * connect-es's invokeUnaryImplementation does, with the request's headers
 * and URL built only if something reads them.
 */
export async function runUnary(
  plan: CallPlan,
  source: CallSource,
  input: unknown,
  signal: CallSignal,
  chain: UnaryChain,
): Promise<Outcome> {
  const { method, service } = plan.entry;
  const responseHeader = PlainHeaders.create();
  responseHeader.set("content-type", responseContentType(plan));
  const responseTrailer = PlainHeaders.create();
  if (plan.protocol !== "connect") {
    responseTrailer.set("grpc-status", "0");
    if (plan.responseCompression !== null) responseHeader.set("grpc-encoding", plan.responseCompression.name);
  }
  const deadline = plan.timeoutMs === undefined ? undefined : Date.now() + plan.timeoutMs;
  let url: string | undefined;
  const urlOf = () => (url ??= new URL(source.target, `${source.scheme}://${source.authority}`).toString());
  source.contextValues.set(frameKey, {
    plan,
    responseHeader,
    responseTrailer,
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    url: urlOf,
    abort: (reason?: unknown) => signal.abort(ConnectError.from(reason ?? "the call was aborted", Code.Canceled)),
  });
  const request: UnaryRequest = {
    stream: false,
    message: input as MessageShape<DescMessage>,
    method: method as UnaryRequest["method"],
    service,
    requestMethod: plan.requestMethod,
    get url() {
      return urlOf();
    },
    signal: signal.controller.signal,
    header: LazyHeaders.of(source.headers),
    contextValues: source.contextValues,
  };
  try {
    const response = await chain(request);
    copyHeaders(response.header, responseHeader);
    copyHeaders(response.trailer, responseTrailer);
    return { message: response.message, error: undefined, header: responseHeader, trailer: responseTrailer };
  } catch (error) {
    const connectError =
      error instanceof ConnectError ? error : new ConnectError("internal error", Code.Internal, undefined, undefined, error);
    return { message: undefined, error: connectError, header: responseHeader, trailer: responseTrailer };
  }
}

function responseContentType(plan: CallPlan): string {
  switch (plan.protocol) {
    case "grpc":
      return plan.binary ? grpcProto : grpcJson;
    case "grpc-web":
      return plan.binary ? grpcWebProto : grpcWebJson;
    case "connect":
      return plan.binary ? contentTypeUnaryProto : contentTypeUnaryJson;
  }
}

/** connect-es's copyHeaders: `to` ends up holding exactly what `from` holds. */
function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const key of [...to.keys()]) to.delete(key);
  from.forEach((value, key) => {
    to.set(key, value);
  });
}

import type { IncomingHttpHeaders } from "node:http";
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type HandlerContext,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { contentTypeUnaryJson, contentTypeUnaryProto } from "@connectrpc/connect/protocol-connect";
import { contentTypeJson as grpcJson, contentTypeProto as grpcProto } from "@connectrpc/connect/protocol-grpc";
import { contentTypeJson as grpcWebJson, contentTypeProto as grpcWebProto } from "@connectrpc/connect/protocol-grpc-web";
import { callUrl } from "./call-url.js";
import { applyInterceptors, asConnectError, copyHeaders, deadlineExceeded, ensureSingle, normalized } from "./connect-mirror.js";
import { LazyHeaders } from "./lazy-headers.js";
import type { FastMethod } from "./methods.js";
import { PlainHeaders } from "./plain-headers.js";
import type { CallPlan, Protocol } from "./plan.js";

/** How a call ended: its message or error, and the response header and trailer the interceptors and the implementation left. */
export interface Outcome {
  readonly message: MessageShape<DescMessage> | undefined;
  readonly error: ConnectError | undefined;
  readonly header: Headers;
  readonly trailer: Headers;
}

/**
 * What running a call needs to know of it, whichever way it came: the fast
 * path's plan for gRPC, gRPC-Web and Connect, or a REST route's
 * (server/rest/), which runs its calls here too, through the same chains.
 */
export interface CallHead extends Pick<CallPlan, "entry" | "binary" | "responseCompression" | "timeoutMs"> {
  /** The protocol the implementation's context names (`protocolName`). */
  readonly protocol: Protocol | "rest";
  /** The request's HTTP method, as interceptors see it (`requestMethod`). */
  readonly requestMethod: string;
}

/** Facts about the HTTP request behind a call. */
export interface CallSource {
  readonly headers: IncomingHttpHeaders;
  /** "https" or "http", and the authority, for the call's URL (built only if read). */
  readonly scheme: string;
  readonly authority: string;
  readonly target: string;
}

/**
 * A running call's signal: aborted, with a ConnectError as the reason, only
 * when the call ends early (deadline, client gone, shutdown). A call that
 * ends normally never aborts it, so it never builds a DOMException; and its
 * AbortController is made only when a call reaches its interceptors.
 */
export class CallSignal {
  done = false;
  timer: NodeJS.Timeout | undefined;
  #controller: AbortController | undefined;
  #reason: ConnectError | undefined;

  /** The AbortSignal interceptors and the implementation see. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Why the call ended early, once it has. */
  get reason(): ConnectError | undefined {
    return this.#reason;
  }

  abort(reason: ConnectError): void {
    if (this.done || this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
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
  const expire = () => signal.abort(deadlineExceeded());
  if (timeoutMs <= 0) expire();
  else signal.timer = setTimeout(expire, timeoutMs);
}

/** What the innermost step (the implementation) needs of one call; it travels in the call's context values. */
interface CallFrame {
  readonly plan: CallHead;
  readonly responseHeader: Headers;
  readonly responseTrailer: Headers;
  readonly timeoutMs: () => number | undefined;
  readonly abort: (reason?: unknown) => void;
}

const frameKey = createContextKey<CallFrame | undefined>(undefined, { description: "fast path call" });

/** A unary method's interceptor chain around its implementation. */
export type UnaryChain = (req: UnaryRequest) => Promise<UnaryResponse>;
/** A server-streaming method's interceptor chain around its implementation. */
export type ServerStreamChain = (req: StreamRequest) => Promise<StreamResponse>;

/**
 * The interceptors (outermost first, as connect-es's applyInterceptors wraps
 * them) around the method's implementation, composed once per method: the
 * server's interceptors keep no state per `next`, only per call.
 */
export function composeUnary(entry: FastMethod, interceptors: readonly Interceptor[]): UnaryChain {
  const { method, service } = entry;
  const implementation = async (req: UnaryRequest): Promise<UnaryResponse> => {
    const frame = frameOf(req);
    const output = await entry.impl(req.message, handlerContext(entry, frame, req));
    return {
      stream: false,
      message: create(method.output, output as never),
      method: req.method,
      service,
      header: frame.responseHeader,
      trailer: frame.responseTrailer,
    };
  };
  return applyInterceptors(implementation, interceptors);
}

/** composeUnary for a server-streaming method: one request message in, the implementation's messages out (connect-es's transformInvokeImplementation). */
export function composeServerStream(entry: FastMethod, interceptors: readonly Interceptor[]): ServerStreamChain {
  const { method, service } = entry;
  const implementation = async (req: StreamRequest): Promise<StreamResponse> => {
    const frame = frameOf(req);
    const input = await ensureSingle(req.message);
    const output = entry.impl(input, handlerContext(entry, frame, req)) as AsyncIterable<MessageInitShape<DescMessage>>;
    return {
      stream: true,
      message: normalized(method.output, output),
      method: req.method,
      service,
      header: frame.responseHeader,
      trailer: frame.responseTrailer,
    };
  };
  return applyInterceptors(implementation, interceptors);
}

function frameOf(req: UnaryRequest | StreamRequest): CallFrame {
  const frame = req.contextValues.get(frameKey);
  if (frame === undefined) throw new ConnectError("the call's context values were replaced", Code.Internal);
  return frame;
}

/**
 * The implementation's context, as connect-es's mergeRequest makes it. Plain
 * data properties: an object literal with getters costs V8 about half a
 * microsecond to build (a runtime call per accessor), more than the values.
 */
function handlerContext(entry: FastMethod, frame: CallFrame, req: UnaryRequest | StreamRequest): HandlerContext {
  const { plan, responseHeader, responseTrailer } = frame;
  const context: HandlerContext & { abort(reason?: unknown): void } = {
    method: entry.method,
    service: req.service,
    signal: req.signal,
    timeoutMs: frame.timeoutMs,
    requestMethod: plan.requestMethod,
    requestHeader: req.header,
    responseHeader,
    responseTrailer,
    protocolName: plan.protocol,
    values: req.contextValues,
    url: req.url,
    abort: frame.abort,
  };
  return context;
}

async function* single<T>(message: T): AsyncGenerator<T> {
  yield message;
}

/** A call ready to run: the response header and trailer it starts with, and the request. */
interface Prepared<Request> {
  readonly responseHeader: Headers;
  readonly responseTrailer: Headers;
  readonly request: Request;
}

/**
 * What every call starts with, as connect-es's handlers make it, with the
 * request's headers and URL built only if something reads them.
 */
function prepare<Request extends UnaryRequest | StreamRequest>(
  plan: CallHead,
  source: CallSource,
  contextValues: ContextValues,
  signal: CallSignal,
  body: Pick<Request, "stream" | "message">,
): Prepared<Request> {
  const { method, service } = plan.entry;
  const responseHeader = PlainHeaders.create();
  responseHeader.set("content-type", responseContentType(plan));
  const responseTrailer = PlainHeaders.create();
  if (plan.protocol === "grpc" || plan.protocol === "grpc-web") {
    responseTrailer.set("grpc-status", "0");
    if (plan.responseCompression !== null) responseHeader.set("grpc-encoding", plan.responseCompression.name);
  }
  const deadline = plan.timeoutMs === undefined ? undefined : Date.now() + plan.timeoutMs;
  contextValues.set(frameKey, {
    plan,
    responseHeader,
    responseTrailer,
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    abort: (reason?: unknown) => signal.abort(ConnectError.from(reason ?? "the call was aborted", Code.Canceled)),
  });
  // Plain data (see handlerContext): the URL string and the AbortSignal cost
  // less than getters that would make them on demand. The signal is never
  // aborted by a call that ends normally (CallSignal), so no DOMException.
  const request = {
    stream: body.stream,
    message: body.message,
    method: method as UnaryRequest["method"],
    service,
    requestMethod: plan.requestMethod,
    url: callUrl(source.scheme, source.authority, source.target),
    signal: signal.signal,
    header: LazyHeaders.of(source.headers),
    contextValues,
  } as Request;
  return { responseHeader, responseTrailer, request };
}

/**
 * Runs one unary call through its method's chain (`composeUnary`: the same
 * interceptor array connect-node runs, and the service implementation), as
 * connect-es's invokeUnaryImplementation does.
 */
export async function runUnary(
  plan: CallHead,
  source: CallSource,
  contextValues: ContextValues,
  input: unknown,
  signal: CallSignal,
  chain: UnaryChain,
): Promise<Outcome> {
  const { responseHeader, responseTrailer, request } = prepare<UnaryRequest>(plan, source, contextValues, signal, {
    stream: false,
    message: input as MessageShape<DescMessage>,
  });
  try {
    const response = await chain(request);
    copyHeaders(response.header, responseHeader);
    copyHeaders(response.trailer, responseTrailer);
    return { message: response.message, error: undefined, header: responseHeader, trailer: responseTrailer };
  } catch (error) {
    return { message: undefined, error: asConnectError(error), header: responseHeader, trailer: responseTrailer };
  }
}

/** A server stream as its chain opened it: the messages to send, or the error that ends it before any. */
export interface StreamOutcome {
  readonly messages: AsyncIterator<MessageShape<DescMessage>> | undefined;
  readonly error: ConnectError | undefined;
  readonly header: Headers;
  readonly trailer: Headers;
  /** Copies the trailer the chain answered with into `trailer`, once the messages have ended (invokeStreamImplementation does it then). */
  readonly settleTrailer: () => void;
}

/** runUnary for a server-streaming call: the chain runs until it answers; its messages are read by the writer. */
export async function openServerStream(
  plan: CallHead,
  source: CallSource,
  contextValues: ContextValues,
  input: unknown,
  signal: CallSignal,
  chain: ServerStreamChain,
): Promise<StreamOutcome> {
  const { responseHeader, responseTrailer, request } = prepare<StreamRequest>(plan, source, contextValues, signal, {
    stream: true,
    message: single(input as MessageShape<DescMessage>),
  });
  try {
    const response = await chain(request);
    copyHeaders(response.header, responseHeader);
    return {
      messages: response.message[Symbol.asyncIterator](),
      error: undefined,
      header: responseHeader,
      trailer: responseTrailer,
      settleTrailer: () => copyHeaders(response.trailer, responseTrailer),
    };
  } catch (error) {
    return { messages: undefined, error: asConnectError(error), header: responseHeader, trailer: responseTrailer, settleTrailer: () => {} };
  }
}

function responseContentType(plan: CallHead): string {
  switch (plan.protocol) {
    case "grpc":
      return plan.binary ? grpcProto : grpcJson;
    case "grpc-web":
      return plan.binary ? grpcWebProto : grpcWebJson;
    case "connect":
      return plan.binary ? contentTypeUnaryProto : contentTypeUnaryJson;
    case "rest":
      return "application/json";
  }
}

import type { IncomingHttpHeaders } from "node:http";
import type { JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import type { ContextValues } from "@connectrpc/connect";
import type { Compression, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { binaryMessagesKey } from "../pipeline/binary-messages.js";
import { callValues } from "../pipeline/call-values.js";
import type { UnseenCallReport } from "../pipeline/unseen-calls.js";
import type { UploadBudget } from "../transport/upload-budget.js";
import { type Answer, answerOf, revalidated } from "./answer.js";
import { type CallSignal, openServerStream, runUnary, type StreamOutcome } from "./call.js";
import { CallBinary } from "./call-binary.js";
import type { MethodChains } from "./chains.js";
import { LazyHeaders } from "./lazy-headers.js";
import type { FastMethod } from "./methods.js";
import { type CallPlan, planCall } from "./plan.js";
import { type Decoded, decodeRequest } from "./request-body.js";
import { RunningCalls } from "./running-calls.js";
import { unseenCallAnswer } from "./unseen.js";

/** How many calls took the fast path, by protocol (tests read it to notice when calls stop taking it). */
export interface FastPathStats {
  grpc: number;
  "grpc-web": number;
  connect: number;
  /** Connect GET calls (also counted in `connect`). */
  get: number;
  /** Server-streaming calls (also counted in `grpc`). */
  serverStream: number;
  /** Requests the fast path took, then gave to connect-node because their body was not one well-formed message. */
  handedBack: number;
}

export interface FastPathOptions {
  readonly table: ReadonlyMap<string, FastMethod>;
  /** The pipeline's interceptors around each method's implementation. */
  readonly chains: MethodChains;
  readonly compressions: readonly Compression[];
  readonly readMaxBytes: number;
  /** What request bodies still arriving may hold, and for how long. */
  readonly uploads: UploadBudget;
  readonly compressMinBytes: number;
  readonly maxTimeoutMs: number;
  readonly jsonOptions: Partial<JsonReadOptions & JsonWriteOptions>;
  readonly cors: boolean;
  readonly shutdownSignal: AbortSignal | undefined;
  /** Counts, traces and logs the calls that end before any interceptor runs. */
  readonly reportUnseen: UnseenCallReport;
}

/** The HTTP request behind a call, whichever HTTP version carried it. */
export interface Exchange {
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  readonly scheme: string;
  readonly authority: string;
  readonly target: string;
  readonly remoteAddress: string | undefined;
  /** The HTTP/2 session, or the HTTP/1.1 socket (see RequestInfo). */
  readonly connection: object | undefined;
}

/** What serving a request came to: an answer to write, a connect-node answer to write, or nothing (the client left). */
export type Result =
  | { readonly kind: "answer"; readonly answer: Answer }
  | { readonly kind: "universal"; readonly response: UniversalServerResponse }
  | undefined;

/** A request the fast path serves (its message, and the call's context values), or connect-node's answer to it. */
type Accepted =
  | { readonly kind: "call"; readonly input: unknown; readonly contextValues: ContextValues; readonly binary: CallBinary }
  | { readonly kind: "universal"; readonly response: UniversalServerResponse };

/** What opening a server stream came to: its messages to write, or a connect-node answer to write. */
export type StreamResult =
  | { readonly kind: "stream"; readonly outcome: StreamOutcome; readonly binary: CallBinary }
  | { readonly kind: "universal"; readonly response: UniversalServerResponse };

/**
 * Unary calls, and gRPC server streams, without connect-node's generic pipeline: the protocol framing,
 * deadline and cancellation here, and everything users see (interceptors,
 * implementations, serialization, error mapping) the same objects
 * connect-node uses. See docs/performance.md.
 */
export class FastPath {
  readonly stats: FastPathStats = { grpc: 0, "grpc-web": 0, connect: 0, get: 0, serverStream: 0, handedBack: 0 };
  readonly #running: RunningCalls;

  constructor(readonly options: FastPathOptions) {
    this.#running = new RunningCalls(options.shutdownSignal);
  }

  plan(method: string | undefined, target: string, headers: IncomingHttpHeaders, http2: boolean): CallPlan | undefined {
    return planCall(this.options, method, target, headers, http2);
  }

  /** A call's signal, aborted by its deadline and by the shutdown; the caller aborts it when the client leaves. */
  begin(plan: CallPlan): CallSignal {
    return this.#running.begin(plan.timeoutMs);
  }

  end(signal: CallSignal): void {
    this.#running.end(signal);
  }

  /**
   * Serves a unary call whose request body has been read whole. `handBack`
   * gives the request (its body replayed) to connect-node's handler for the
   * same path.
   */
  async serve(
    plan: CallPlan,
    exchange: Exchange,
    body: Uint8Array,
    signal: CallSignal,
    started: number,
    handBack: () => UniversalServerRequest["body"],
  ): Promise<Result> {
    let call = this.#accept(plan, exchange, body, signal, started, handBack);
    if (call instanceof Promise) call = await call;
    if (call.kind === "universal") return call;
    const outcome = await runUnary(plan, exchange, call.contextValues, call.input, signal, this.options.chains.unary(plan.entry));
    let answer = answerOf(plan, outcome, call.binary, this.options);
    if (answer instanceof Promise) answer = await answer;
    return { kind: "answer", answer: plan.requestMethod === "GET" ? revalidated(answer, exchange.headers) : answer };
  }

  /** `serve` for a server-streaming call (gRPC): the chain runs until it answers, and the caller writes its messages. */
  async openStream(
    plan: CallPlan,
    exchange: Exchange,
    body: Uint8Array,
    signal: CallSignal,
    started: number,
    handBack: () => UniversalServerRequest["body"],
  ): Promise<StreamResult> {
    let call = this.#accept(plan, exchange, body, signal, started, handBack);
    if (call instanceof Promise) call = await call;
    if (call.kind === "universal") return call;
    this.stats.serverStream++;
    const outcome = await openServerStream(
      plan,
      exchange,
      call.contextValues,
      call.input,
      signal,
      this.options.chains.serverStream(plan.entry),
    );
    return { kind: "stream", outcome, binary: call.binary };
  }

  /**
   * A call's request message, or connect-node's answer when the fast path
   * does not serve it after all: the call ended while its request was read,
   * or the body is not one well-formed message. Nothing waits in the common
   * case (no promise): only a compressed message is decoded later.
   */
  #accept(
    plan: CallPlan,
    exchange: Exchange,
    body: Uint8Array,
    signal: CallSignal,
    started: number,
    handBack: () => UniversalServerRequest["body"],
  ): Accepted | Promise<Accepted> {
    const contextValues = this.#contextValues(exchange);
    if (signal.reason !== undefined) {
      // The deadline passed, or the client left, while the request was read.
      const response = unseenCallAnswer(
        plan,
        signal.reason,
        { headers: LazyHeaders.of(exchange.headers), httpVersion: exchange.httpVersion, started },
        this.options.reportUnseen,
      );
      return { kind: "universal", response };
    }
    const decoded = decodeRequest(plan, body, this.options.readMaxBytes);
    if (decoded instanceof Promise) {
      return decoded.then((input) => this.#accepted(plan, exchange, body, contextValues, input, signal, handBack));
    }
    return this.#accepted(plan, exchange, body, contextValues, decoded, signal, handBack);
  }

  #accepted(
    plan: CallPlan,
    exchange: Exchange,
    body: Uint8Array,
    contextValues: ContextValues,
    input: Decoded,
    signal: CallSignal,
    handBack: () => UniversalServerRequest["body"],
  ): Accepted | Promise<Accepted> {
    if (input === undefined) {
      this.stats.handedBack++;
      return plan.entry
        .handler({
          httpVersion: exchange.httpVersion,
          method: plan.requestMethod,
          url: new URL(exchange.target, `${exchange.scheme}://${exchange.authority}`).toString(),
          header: LazyHeaders.of(exchange.headers),
          body: handBack(),
          signal: signal.signal,
          contextValues,
        })
        .then((response) => ({ kind: "universal", response }));
    }
    this.stats[plan.protocol]++;
    if (plan.requestMethod === "GET") this.stats.get++;
    const binary = new CallBinary(plan, input, body);
    contextValues.set(binaryMessagesKey, binary);
    return { kind: "call", input, contextValues, binary };
  }

  #contextValues(exchange: Exchange): ContextValues {
    return callValues({ httpVersion: exchange.httpVersion, remoteAddress: exchange.remoteAddress, connection: exchange.connection });
  }
}

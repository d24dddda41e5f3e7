import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { preview } from "../domain/text.js";
import { explainUnreadableRequest, withShortMessage } from "../interceptors/errors.js";
import { type CallFacts, logCall, protocolOf } from "../interceptors/logging.js";
import { chooseRequestId, requestIdHeader } from "../interceptors/request-id.js";
import type { Logger } from "../logger.js";
import type { RequestHandler } from "../transport/http-handler.js";
import { wrapHandler } from "../transport/wrap-handler.js";
import { checkGetQuery } from "../wire/connect-get.js";
import { discardBody, errorAnswer, refusalAnswer } from "../wire/early-answers.js";
import { type CallState, callStateKey } from "./call-state.js";

/**
 * connect-es reads, decompresses and parses a unary request before it runs
 * any interceptor, and refuses a wrong content type or HTTP method before a
 * call even begins. Those requests would get no call log line, no request id,
 * and in connect-es's words ("parse binary: premature EOF", as INTERNAL).
 *
 * This wraps each procedure's handler: a call that no interceptor saw gets
 * its one log line here, its `x-request-id`, and, when connect-es could not
 * read the request, the same status and message the error mapping gives
 * inside a call (see explainUnreadableRequest), written in the form of the
 * call's protocol. Connect GET parameters are checked here too, before
 * connect-es decodes them. Calls the interceptors saw pass through untouched.
 */
export function answerUnseenCalls(handler: UniversalHandler, reportUnseen: UnseenCallReport): UniversalHandler {
  const procedure = `/${handler.service.typeName}/${handler.method.name}`;
  const takesGet = handler.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
  const streaming = handler.method.methodKind !== "unary";
  const report = (req: UniversalServerRequest, facts: CallFacts, error: unknown, extra?: Record<string, unknown>) =>
    reportUnseen({ facts, service: handler.service.typeName, method: handler.method.name, streaming, header: req.header, error }, extra);

  async function handle(req: UniversalServerRequest): Promise<UniversalServerResponse> {
    const started = performance.now();
    const state: CallState = { seen: false, signal: undefined };
    const contextValues = req.contextValues ?? createContextValues();
    contextValues.set(callStateKey, state);
    const protocol = protocolOf(req.method, req.header);
    /** The log line's facts and the response header of a call no interceptor saw. */
    const unseen = (header: Headers | undefined) => {
      const facts = unseenCallFacts(procedure, protocol, req, started);
      return { facts, header: withRequestId(new Headers(header), facts) };
    };

    const badQuery = req.method === "GET" && takesGet ? checkGetQuery(new URL(req.url).searchParams) : undefined;
    if (badQuery !== undefined) {
      const { facts, header } = unseen(undefined);
      report(req, facts, badQuery);
      return errorAnswer("connect", badQuery, header);
    }

    const res = await handler({ ...req, contextValues });
    if (state.seen) return res;
    const { facts, header } = unseen(res.header);

    if (state.signal === undefined) {
      // Refused before a call began: 415, 405 or 505, with no body.
      const reason = explainRefusal(res.status, req, handler);
      report(req, facts, reason, { status: res.status });
      if (res.status === 405) header.set("allow", handler.allowedMethods.join(", "));
      return refusalAnswer(protocol, res.status, reason, header);
    }

    // The call began, and connect-es ended it before any interceptor ran,
    // aborting its signal with the error it answers.
    const failure: unknown = state.signal.aborted ? state.signal.reason : undefined;
    if (!(failure instanceof ConnectError)) {
      // connect-es answered INTERNAL "internal error": a fault of ours, with its stack in the log line.
      report(req, facts, new ConnectError("internal error", Code.Internal), { err: failure, status: res.status });
      return { ...res, header };
    }
    const explained = withShortMessage(explainUnreadableRequest(failure, handler.method) ?? failure);
    report(req, facts, explained);
    // Only unary calls end before the interceptors; a stream's answer is never
    // rewritten. A deadline that passed while connect-es was still reading the
    // request (grpc-timeout: 0n) ends the call, but connect-es answers with
    // whatever the interrupted read threw: the answer must be the deadline.
    const rewrite = explained !== failure || failure.code === Code.DeadlineExceeded;
    if (!rewrite || handler.method.methodKind !== "unary") return { ...res, header };
    await discardBody(res);
    return errorAnswer(protocol, explained, header);
  }

  return wrapHandler(handler, handle);
}

/**
 * A request for a path no procedure serves, answered by `handler` (a 404, or
 * UNIMPLEMENTED for gRPC clients), gets its log line too.
 */
export function logUnrouted(handler: RequestHandler, reportUnseen: UnseenCallReport): RequestHandler {
  return (req, res) => {
    const started = performance.now();
    handler(req, res);
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const header = new Headers();
    for (const name of ["content-type", ...traceHeaders]) {
      const value = req.headers[name];
      if (typeof value === "string") header.set(name, value);
    }
    const facts: CallFacts = {
      procedure: preview(path, 200),
      protocol: protocolOf(req.method ?? "", header),
      http: req.httpVersion,
      method: req.method ?? "",
      started,
      requestId: undefined,
    };
    const error = new ConnectError(`no such procedure or page: ${preview(path, 200)}`, Code.Unimplemented);
    reportUnseen({ facts, service: undefined, method: undefined, streaming: false, header, error }, { status: res.statusCode });
  };
}

/**
 * The log line's facts of a call no interceptor saw, on either path, with the
 * request id it is logged and answered with (the client's, or a new one).
 */
export function unseenCallFacts(
  procedure: string,
  protocol: CallFacts["protocol"],
  req: { readonly httpVersion: string; readonly method: string; readonly header: Headers },
  started: number,
): CallFacts & { readonly requestId: string } {
  return { procedure, protocol, http: req.httpVersion, method: req.method, started, requestId: chooseRequestId(req.header) };
}

/** The answer's header, carrying the call's request id as its log line does. */
export function withRequestId(header: Headers, facts: { readonly requestId: string }): Headers {
  header.set(requestIdHeader, facts.requestId);
  return header;
}

/** The headers that carry trace context (W3C Trace Context and Baggage). */
const traceHeaders = ["traceparent", "tracestate", "baggage"];

/** A call no interceptor saw, as it ends. */
export interface UnseenCall {
  readonly facts: CallFacts;
  /** The procedure's service and method; undefined for a request no procedure answers. */
  readonly service: string | undefined;
  readonly method: string | undefined;
  readonly streaming: boolean;
  /** The request headers (for a request no procedure answers: its content type and trace context only). */
  readonly header: Headers;
  readonly error: unknown;
}

/**
 * Told of each call no interceptor saw as it ends, before its log line is
 * written, so metrics and traces count it too; returns fields for that line
 * (its trace id).
 */
export type UnseenCallHook = (call: UnseenCall) => Record<string, unknown> | undefined;

/** Counts, traces and logs one call no interceptor saw; `extra` joins its log line. */
export type UnseenCallReport = (call: UnseenCall, extra?: Record<string, unknown>) => void;

/**
 * The one way a call no interceptor saw is reported, on either path: the
 * hook (metrics, traces) first, so that what it adds (the trace id) joins the
 * call's log line.
 */
export function unseenCallReport(logger: Logger, onUnseen: UnseenCallHook | undefined): UnseenCallReport {
  return (call, extra) => {
    const added = onUnseen?.(call);
    logCall(logger, call.facts, call.error, { ...extra, ...added });
  };
}

/** Why connect-es refused a request before a call began, from the HTTP status it chose. */
function explainRefusal(status: number, req: UniversalServerRequest, handler: UniversalHandler): ConnectError {
  const procedure = `${handler.service.typeName}/${handler.method.name}`;
  switch (status) {
    case 415: {
      if (req.method === "GET") {
        const encoding = new URL(req.url).searchParams.get("encoding") ?? "";
        return new ConnectError(
          `encoding=${preview(encoding)} is not supported: use encoding=json or encoding=proto`,
          Code.InvalidArgument,
        );
      }
      const connect =
        handler.method.methodKind === "unary"
          ? "application/json or application/proto"
          : "application/connect+json or application/connect+proto";
      const sent = preview(req.header.get("content-type") ?? "");
      return new ConnectError(
        `content-type "${sent}" is not one ${procedure} accepts: send ${connect} (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-Web)`,
        Code.InvalidArgument,
      );
    }
    case 405:
      return new ConnectError(
        `${preview(req.method)} is not allowed: ${procedure} takes ${handler.allowedMethods.join(" or ")}`,
        Code.InvalidArgument,
      );
    case 505:
      return new ConnectError(`${procedure} streams both ways at once, which needs HTTP/2`, Code.Unimplemented);
    default:
      return new ConnectError(`${procedure} refused the request with HTTP ${status}`, Code.Unknown);
  }
}

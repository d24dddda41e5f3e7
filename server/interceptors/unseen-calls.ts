import { base64Decode } from "@bufbuild/protobuf/wire";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import {
  createAsyncIterable,
  encodeEnvelope,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import type { RequestHandler } from "../app.js";
import { preview } from "../domain/text.js";
import type { Logger } from "../logger.js";
import { type CallState, callStateKey } from "./call-state.js";
import { explainUnreadableRequest, withShortMessage } from "./errors.js";
import { type CallFacts, logCall, protocolOf } from "./logging.js";
import { chooseRequestId, requestIdHeader } from "./request-id.js";

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
export function answerUnseenCalls(handler: UniversalHandler, logger: Logger): UniversalHandler {
  const procedure = `/${handler.service.typeName}/${handler.method.name}`;
  const takesGet = handler.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;

  async function handle(req: UniversalServerRequest): Promise<UniversalServerResponse> {
    const state: CallState = { seen: false, signal: undefined };
    const contextValues = req.contextValues ?? createContextValues();
    contextValues.set(callStateKey, state);
    const requestId = chooseRequestId(req.header);
    const facts: CallFacts = {
      procedure,
      protocol: protocolOf(req.method, req.header),
      http: req.httpVersion,
      method: req.method,
      started: performance.now(),
      requestId,
    };

    const badQuery = req.method === "GET" && takesGet ? checkGetQuery(new URL(req.url).searchParams) : undefined;
    if (badQuery !== undefined) {
      logCall(logger, facts, badQuery);
      return connectErrorAnswer(badQuery, new Headers(), requestId);
    }

    const res = await handler({ ...req, contextValues });
    if (state.seen) return res;

    if (state.signal === undefined) {
      // Refused before a call began: 415, 405 or 505, with no body.
      const refusal = explainRefusal(res.status, req, handler);
      logCall(logger, facts, refusal, { status: res.status });
      const header = idHeader(res.header, requestId);
      if (res.status === 405) header.set("allow", handler.allowedMethods.join(", "));
      return refusalAnswer(res.status, header, refusal, facts.protocol);
    }

    const failure: unknown = state.signal.aborted ? state.signal.reason : undefined;
    if (!(failure instanceof ConnectError)) {
      // connect-es answered INTERNAL "internal error": a fault of ours, with its stack in the log line.
      logCall(logger, facts, new ConnectError("internal error", Code.Internal), { err: failure, status: res.status });
      return withRequestId(res, requestId);
    }
    const explained = explainUnreadableRequest(failure, handler.method) ?? withShortMessage(failure);
    logCall(logger, facts, explained);
    if (explained === failure) return withRequestId(res, requestId);
    await discardBody(res);
    switch (facts.protocol) {
      case "grpc":
        return { status: 200, header: idHeader(res.header, requestId), trailer: setTrailerStatus(new Headers(), explained) };
      case "grpc-web": {
        const trailer = trailerSerialize(setTrailerStatus(new Headers(), explained));
        return { status: 200, header: idHeader(res.header, requestId), body: createAsyncIterable([encodeEnvelope(trailerFlag, trailer)]) };
      }
      case "connect":
        return connectErrorAnswer(explained, new Headers(res.header), requestId);
    }
  }

  return Object.assign(handle, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}

/**
 * A request for a path no procedure serves, answered by `handler` (a 404, or
 * UNIMPLEMENTED for gRPC clients), gets its log line too.
 */
export function logUnrouted(logger: Logger, handler: RequestHandler): RequestHandler {
  return (req, res) => {
    const started = performance.now();
    handler(req, res);
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const header = new Headers();
    const contentType = req.headers["content-type"];
    if (contentType !== undefined) header.set("content-type", contentType);
    const facts: CallFacts = {
      procedure: preview(path, 200),
      protocol: protocolOf(req.method ?? "", header),
      http: req.httpVersion,
      method: req.method ?? "",
      started,
      requestId: undefined,
    };
    logCall(logger, facts, new ConnectError(`no such procedure or page: ${preview(path, 200)}`, Code.Unimplemented), {
      status: res.statusCode,
    });
  };
}

/**
 * A Connect GET names its codec in `encoding` and carries its message in
 * `message` (base64url when `base64=1`). connect-es would take a missing
 * message for an empty one and answer bad base64 with INTERNAL; connect-go
 * answers all three with INVALID_ARGUMENT, and so does this. An unknown
 * encoding is left to connect-es: 415, as for a POST with an unknown codec.
 */
function checkGetQuery(query: URLSearchParams): ConnectError | undefined {
  const encoding = query.get("encoding");
  if (encoding === null) {
    return new ConnectError(
      "the encoding parameter is missing: a Connect GET names its codec in the URL, encoding=json or encoding=proto",
      Code.InvalidArgument,
    );
  }
  if (encoding !== "json" && encoding !== "proto") return undefined;
  const message = query.get("message");
  if (message === null) {
    return new ConnectError(
      "the message parameter is missing: a Connect GET carries its request message in the URL, e.g. ?encoding=json&message={}",
      Code.InvalidArgument,
    );
  }
  if (query.get("base64") === "1") {
    try {
      base64Decode(message);
    } catch {
      return new ConnectError("the message parameter is not valid base64url, as base64=1 says it is", Code.InvalidArgument);
    }
  }
  return undefined;
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

/**
 * The refusal as connect-es sent it (HTTP status, no body), plus the reason:
 * in a plain-text body that curl users read, or in grpc-status and
 * grpc-message for gRPC clients, as grpc-go does.
 */
function refusalAnswer(status: number, header: Headers, refusal: ConnectError, protocol: CallFacts["protocol"]): UniversalServerResponse {
  if (protocol !== "connect") return { status, header: setTrailerStatus(header, refusal) };
  const body = new TextEncoder().encode(`${refusal.rawMessage}\n`);
  header.set("content-type", "text/plain; charset=utf-8");
  header.set("content-length", String(body.byteLength));
  return { status, header, body: createAsyncIterable([body]) };
}

/** A Connect unary error: the HTTP status of its code and the JSON error body. */
function connectErrorAnswer(error: ConnectError, header: Headers, requestId: string): UniversalServerResponse {
  const body = errorToJsonBytes(error, {});
  header.set("content-type", "application/json");
  header.delete("content-encoding");
  header.set("content-length", String(body.byteLength));
  header.set(requestIdHeader, requestId);
  return { status: codeToHttpStatus(error.code), header, body: createAsyncIterable([body]) };
}

function withRequestId(res: UniversalServerResponse, requestId: string): UniversalServerResponse {
  return { ...res, header: idHeader(res.header, requestId) };
}

function idHeader(header: Headers | undefined, requestId: string): Headers {
  const copy = new Headers(header);
  copy.set(requestIdHeader, requestId);
  return copy;
}

/** Ends what connect-es would have sent instead (at most the error it already serialized). */
async function discardBody(res: UniversalServerResponse): Promise<void> {
  if (res.body === undefined || !(Symbol.asyncIterator in res.body)) return;
  await res.body[Symbol.asyncIterator]()
    .return?.()
    .catch(() => {});
}

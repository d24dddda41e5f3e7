import type { DescMessage, JsonReadOptions, JsonValue, JsonWriteOptions, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { preview } from "../domain/text.js";
import { type CallHead, type CallSignal, type CallSource, openServerStream, runUnary } from "../fast-path/call.js";
import type { MethodChains } from "../fast-path/chains.js";
import type { RunningCalls } from "../fast-path/running-calls.js";
import type { Logger } from "../logger.js";
import { callValues } from "../pipeline/call-values.js";
import { type UnseenCallReport, unseenCallFacts } from "../pipeline/unseen-calls.js";
import { failRequest } from "../transport/contain-failures.js";
import { drainRequest, uploadDrainLimits } from "../transport/drain-request.js";
import { connectionOf, type NodeRequest, type NodeResponse, type RequestHandler } from "../transport/http-handler.js";
import type { UploadBudget } from "../transport/upload-budget.js";
import { writeError, writeJson, writeMessage } from "./answers.js";
import { FieldNames } from "./fields.js";
import { Refusal } from "./refusal.js";
import { readRequestBody } from "./request-body.js";
import { requestMessage } from "./request-message.js";
import { responseJson } from "./response-json.js";
import type { RestRoute, RouteTable } from "./route-table.js";
import { restErrorBody, statusBody } from "./status-body.js";
import { streamFormat } from "./stream-formats.js";
import { writeStream } from "./stream-writer.js";
import { parseTimeout } from "./timeout.js";

export interface RestOptions {
  readonly routes: RouteTable;
  /** The pipeline's interceptors around each implementation: the chains the fast path runs. */
  readonly chains: MethodChains;
  /** Ends REST calls still running at the end of a graceful shutdown. */
  readonly running: RunningCalls;
  /** Counts, traces and logs the requests refused before their call began. */
  readonly reportUnseen: UnseenCallReport;
  readonly readMaxBytes: number;
  /** What request bodies still arriving may hold, and for how long (shared with the fast path). */
  readonly uploads: UploadBudget;
  readonly maxTimeoutMs: number;
  /** The JSON options of every protocol: unknown fields refused, shapes bounded (json-shape.ts). */
  readonly jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> & { textDecoder: { decode(input?: Uint8Array): string } };
  readonly logger: Logger;
}

/**
 * HTTP/JSON transcoding (google.api.http) in process: a request whose path
 * is under a REST prefix ("/v1/...") becomes a call of its method, run
 * through the same interceptor chain and implementation as every other
 * protocol's (the fast path's runner, server/fast-path/call.ts), once. Any
 * other request goes to `otherwise`. See docs/rest.md.
 */
export function restHandler(options: RestOptions, otherwise: RequestHandler): RequestHandler {
  const names = new FieldNames();
  const errorBody = restErrorBody(options.routes);
  return (req, res) => {
    const target = req.url ?? "";
    const queryStart = target.indexOf("?");
    const path = queryStart < 0 ? target : target.slice(0, queryStart);
    if (!options.routes.claims(path)) {
      otherwise(req, res);
      return;
    }
    const query = queryStart < 0 ? undefined : target.slice(queryStart + 1);
    serve(options, names, req, res, path, query).catch((error: unknown) => failRequest(req, res, error, options.logger, errorBody));
  };
}

async function serve(
  options: RestOptions,
  names: FieldNames,
  req: NodeRequest,
  res: NodeResponse,
  path: string,
  query: string | undefined,
) {
  const started = performance.now();
  const match = options.routes.match(req.method ?? "", path);
  if (match.kind === "none" || match.kind === "wrong-method") {
    const refusal =
      match.kind === "none"
        ? new Refusal(404, new ConnectError(`no REST route matches ${preview(path, 200)}`, Code.NotFound))
        : new Refusal(
            405,
            new ConnectError(
              `${preview(req.method ?? "")} is not allowed on ${preview(path, 200)}: it takes ${match.allowed.join(", ")}`,
              Code.Unimplemented,
            ),
            { allow: match.allowed.join(", ") },
          );
    await refuse(options, req, res, started, undefined, refusal);
    return;
  }
  const { route } = match;
  let timeoutMs: number | undefined;
  try {
    if (match.kind === "unreadable") throw new ConnectError(match.reason, Code.InvalidArgument);
    timeoutMs = parseTimeout(req.headers.timeout, options.maxTimeoutMs);
  } catch (error) {
    await refuse(options, req, res, started, route, refusalOf(error));
    return;
  }
  // From here the deadline runs, as on the fast path: reading the body counts against it.
  const signal = options.running.begin(timeoutMs);
  // Not writableFinished: Node's HTTP/2 compatibility layer reports a reset stream as finished.
  const onClose = () => {
    if (!res.writableEnded) signal.abort(new ConnectError("the client closed the connection", Code.Canceled));
  };
  res.on("close", onClose);
  try {
    let message: MessageShape<DescMessage>;
    try {
      const upload = options.uploads.open(connectionOf(req), req.socket.remoteAddress, signal);
      let body: JsonValue | undefined;
      try {
        body = await readRequestBody(req, route, options.readMaxBytes, options.jsonOptions.textDecoder, upload);
      } finally {
        upload.close();
      }
      const params = query === undefined ? undefined : new URLSearchParams(query);
      message = requestMessage(route, match.bindings, params, body, names, options.jsonOptions);
    } catch (error) {
      // A body cut short by a client that left reads as bad JSON: the log should say the client left.
      await refuse(options, req, res, started, route, refusalOf(signal.reason ?? error));
      return;
    }
    if (signal.reason !== undefined) {
      // The deadline passed, or the client left, before the call could begin: answered as the fast path answers it.
      await refuse(options, req, res, started, route, refusalOf(signal.reason));
      return;
    }
    await call(options, req, res, route, message, signal, timeoutMs);
  } finally {
    res.off("close", onClose);
    options.running.end(signal);
  }
}

/** What refuses a request before its call: a Refusal as it is, a ConnectError with the status its code maps to; anything else is a fault of ours. */
function refusalOf(error: unknown): Refusal {
  if (error instanceof Refusal) return error;
  if (error instanceof ConnectError) return new Refusal(codeToHttpStatus(error.code), error);
  throw error;
}

async function call(
  options: RestOptions,
  req: NodeRequest,
  res: NodeResponse,
  route: RestRoute,
  message: MessageShape<DescMessage>,
  signal: CallSignal,
  timeoutMs: number | undefined,
): Promise<void> {
  const { entry } = route;
  const head: CallHead = { entry, protocol: "rest", requestMethod: req.method ?? "", binary: false, responseCompression: null, timeoutMs };
  const source = sourceOf(req);
  const contextValues = callValues({
    httpVersion: req.httpVersion,
    remoteAddress: remoteAddressOf(req),
    connection: connectionOf(req),
    restRoute: route.template.text,
  });
  if (entry.kind === "server_streaming") {
    const outcome = await openServerStream(head, source, contextValues, message, signal, options.chains.serverStream(entry));
    await writeStream(res, route, outcome, streamFormat(req.headers.accept), signal, options.jsonOptions);
    return;
  }
  const outcome = await runUnary(head, source, contextValues, message, signal, options.chains.unary(entry));
  if (outcome.error !== undefined) {
    writeError(res, outcome.header, outcome.error);
    return;
  }
  let json: string;
  try {
    json = responseJson(route, outcome.message as MessageShape<DescMessage>, options.jsonOptions);
  } catch (error) {
    options.logger.error({ err: error, route: route.name }, "could not write a response message as JSON");
    writeError(res, outcome.header, new ConnectError("internal error", Code.Internal));
    return;
  }
  writeMessage(res, outcome.header, json, req.method === "GET" ? req.headers["if-none-match"] : undefined);
}

/**
 * Answers a request refused before its call, after reading what is left of
 * its body (see drainRequest), and reports it as the other paths report
 * such calls: one log line, metrics and a span, a request id.
 */
async function refuse(
  options: RestOptions,
  req: NodeRequest,
  res: NodeResponse,
  started: number,
  route: RestRoute | undefined,
  refusal: Refusal,
): Promise<void> {
  const header = traceHeaders(req);
  const facts = unseenCallFacts(
    route === undefined ? preview(req.url?.split("?", 1)[0] ?? "", 200) : `/${route.entry.service.typeName}/${route.entry.method.name}`,
    "rest",
    { httpVersion: req.httpVersion, method: req.method ?? "", header },
    started,
  );
  options.reportUnseen(
    {
      facts,
      service: route?.entry.service.typeName,
      method: route?.entry.method.name,
      streaming: route?.entry.kind === "server_streaming",
      header,
      error: refusal.error,
    },
    { status: refusal.status },
  );
  const ended = await drainRequest(req, uploadDrainLimits(options.readMaxBytes));
  // An upload past the drain's limits is cut: on HTTP/1.1 the connection cannot carry another request.
  if (!ended && "shouldKeepAlive" in res) res.shouldKeepAlive = false;
  writeJson(res, refusal.status, { ...refusal.headers, "x-request-id": facts.requestId }, statusBody(refusal.error));
}

/** What a report of a refused request reads of its headers: its request id and trace context. */
function traceHeaders(req: NodeRequest): Headers {
  const header = new Headers();
  for (const name of ["x-request-id", "traceparent", "tracestate", "baggage"]) {
    const value = req.headers[name];
    if (typeof value === "string") header.set(name, value);
  }
  return header;
}

function sourceOf(req: NodeRequest): CallSource {
  const http2 = "stream" in req;
  const encrypted = "encrypted" in req.socket && req.socket.encrypted === true;
  return {
    headers: req.headers,
    scheme: encrypted ? "https" : "http",
    authority: (http2 ? req.authority : req.headers.host) ?? "",
    target: req.url ?? "",
  };
}

/** The client's address; HTTP/2's socket proxy throws once the connection is gone. */
function remoteAddressOf(req: NodeRequest): string | undefined {
  try {
    return req.socket.remoteAddress;
  } catch {
    return undefined;
  }
}

import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { type Attributes, type Context, context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  isServerError,
  networkProtocolVersion,
  type Protocol,
  rpcSystemName,
  statusCodeName,
  statusCodeNumber,
} from "../observability/rpc-attributes.js";
import { type TraceIds, traceIdsKey } from "../observability/trace-ids.js";
import type { Tracing } from "../observability/tracing.js";
import { requestInfoKey } from "../pipeline/request-info.js";
import type { UnseenCallHook } from "../pipeline/unseen-calls.js";
import { callProtocol } from "./logging.js";

/**
 * One server span per call, named "package.Service/Method", child of the
 * caller's trace when the request carries W3C trace context (`traceparent`,
 * `tracestate`: gRPC metadata and Connect and gRPC-Web headers are all HTTP
 * headers, Connect GET included). The call runs in the span's context, so
 * database queries become its children, and its log line carries its trace
 * and span ids. It runs outermost: the span covers every other interceptor,
 * and its status is the one the client receives.
 */
export function tracingInterceptor(tracing: Tracing): Interceptor {
  return (next) => async (req) => {
    const protocol = callProtocol(req);
    const parent = tracing.extract(req.header);
    const span = tracing.tracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: callAttributes(
          req.service.typeName,
          req.method.name,
          protocol,
          req.contextValues.get(requestInfoKey).httpVersion,
          req.url,
        ),
      },
      parent,
    );
    const { restRoute } = req.contextValues.get(requestInfoKey);
    if (restRoute !== undefined) {
      // A REST call is also an HTTP request to a route (semconv HTTP server attributes).
      span.setAttribute("http.route", restRoute);
      span.setAttribute("http.request.method", req.requestMethod);
    }
    const spanContext = trace.setSpan(parent, span);
    req.contextValues.set(traceIdsKey, idsOf(span));
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await context.with(spanContext, () => next(req));
    } catch (error) {
      endSpan(span, protocol, error);
      throw error;
    }
    if (!res.stream) {
      endSpan(span, protocol, undefined);
      return res;
    }
    return { ...res, message: inSpan(res.message, spanContext, span, protocol, req.signal) };
  };
}

/**
 * The response stream of a streaming call, each message produced in the
 * call's span context (connect-node iterates it outside the interceptor),
 * the span ending with the stream.
 */
async function* inSpan<T>(
  messages: AsyncIterable<T>,
  spanContext: Context,
  span: Span,
  protocol: Protocol,
  signal: AbortSignal,
): AsyncGenerator<T> {
  const iterator = messages[Symbol.asyncIterator]();
  let outcome: unknown;
  try {
    for (;;) {
      const result = await context.with(spanContext, () => iterator.next());
      if (result.done === true) return;
      yield result.value;
    }
  } catch (error) {
    outcome = error;
    throw error;
  } finally {
    endSpan(span, protocol, outcome ?? (signal.aborted ? signal.reason : undefined));
    if (outcome === undefined) await iterator.return?.()?.catch(() => {});
  }
}

/**
 * Spans for the calls that end before any interceptor runs (unreadable
 * requests, wrong content types, unknown procedures): started when the
 * request came, ended now, named `_OTHER` when no procedure matched.
 */
export function unseenCallSpans(tracing: Tracing): UnseenCallHook {
  return ({ facts, service, method, header, error }) => {
    const known = service !== undefined && method !== undefined;
    const span = tracing.tracer.startSpan(
      known ? `${service}/${method}` : "_OTHER",
      {
        kind: SpanKind.SERVER,
        startTime: performance.timeOrigin + facts.started,
        attributes: callAttributes(service, method, facts.protocol, facts.http, undefined),
      },
      tracing.extract(header),
    );
    endSpan(span, facts.protocol, error);
    const ids = idsOf(span);
    return { trace_id: ids.traceId, span_id: ids.spanId };
  };
}

/** The semconv attributes of a server span (stable RPC conventions, plus the older names some backends still key on). */
function callAttributes(
  service: string | undefined,
  method: string | undefined,
  protocol: Protocol,
  httpVersion: string,
  url: string | undefined,
): Attributes {
  const known = service !== undefined && method !== undefined;
  const attributes: Attributes = {
    "rpc.system.name": rpcSystemName(protocol),
    "rpc.method": known ? `${service}/${method}` : "_OTHER",
    "network.protocol.name": "http",
    "network.protocol.version": networkProtocolVersion(httpVersion),
    // The names before the RPC conventions became stable: kept so that dashboards built on them still work.
    "rpc.system": protocol === "connect" ? "connect_rpc" : "grpc",
  };
  if (known) attributes["rpc.service"] = service;
  const server = url === undefined ? undefined : serverOf(url);
  if (server !== undefined) {
    attributes["server.address"] = server.address;
    attributes["server.port"] = server.port;
  }
  return attributes;
}

/** The last authority parsed: every call to a server names the same one, so parsing it again is skipped. */
let lastAuthority: { authority: string; server: { address: string; port: number } | undefined } | undefined;

/** `server.address` and `server.port` from the request URL connect-node builds ("http://host:port/path"), as the client addressed the server. */
function serverOf(url: string): { address: string; port: number } | undefined {
  const start = url.indexOf("://") + 3;
  const end = url.indexOf("/", start);
  const authority = url.slice(start, end === -1 ? undefined : end);
  if (lastAuthority?.authority !== authority) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    lastAuthority = {
      authority,
      server:
        parsed === undefined
          ? undefined
          : {
              address: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
              port: parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port),
            },
    };
  }
  return lastAuthority.server;
}

/** Sets the outcome (rpc.status_code; ERROR status only for the server's own faults, as the semconv says) and ends the span. */
function endSpan(span: Span, protocol: Protocol, error: unknown): void {
  const status = statusCodeName(error);
  span.setAttribute("rpc.status_code", status);
  if (protocol === "connect") {
    if (error !== undefined) span.setAttribute("rpc.connect_rpc.error_code", codeToString(ConnectError.from(error).code));
  } else {
    span.setAttribute("rpc.grpc.status_code", statusCodeNumber(error));
  }
  if (isServerError(error)) {
    span.setAttribute("error.type", status);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message.slice(0, 300) : status });
  }
  span.end();
}

/** The span's own context: it has the two ids, and no copy is made per call. */
function idsOf(span: Span): TraceIds {
  return span.spanContext();
}

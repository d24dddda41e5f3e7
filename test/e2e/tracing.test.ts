import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { Span_SpanKind, Status_StatusCode } from "../../gen/opentelemetry/proto/trace/v1/trace_pb.js";
import { rejection } from "../support/assert.js";
import { type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver.js";
import { protocolCases, startTestServer } from "../support/server.js";

/** A caller's W3C trace context: a new trace, with the caller's span as the parent. */
function callerContext(sampled = true) {
  const traceId = randomBytes(16).toString("hex");
  const parentSpanId = randomBytes(8).toString("hex");
  const requestId = `req-${randomBytes(4).toString("hex")}`;
  return {
    traceId,
    parentSpanId,
    requestId,
    headers: {
      traceparent: `00-${traceId}-${parentSpanId}-${sampled ? "01" : "00"}`,
      tracestate: "caller=abc",
      "x-request-id": requestId,
    },
  };
}

describe("traces: OTLP over HTTP/protobuf, on every protocol", async () => {
  const receiver = await startOtlpReceiver();
  const server = await startTestServer({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: "50",
    OTEL_SERVICE_NAME: "tracing-test",
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
  });
  const protocols = protocolCases(server.baseUrl);
  after(async () => {
    protocols.close();
    await server.shutdown();
    await receiver.close();
  });

  /** The call log line of the request with this x-request-id. */
  const logOf = (requestId: string) => {
    const line = server.logs.find((record) => record.requestId === requestId);
    assert.ok(line, `a log line for ${requestId}`);
    return line;
  };
  const serverSpan = async (traceId: string): Promise<ReceivedSpan> => {
    const [span] = await receiver.waitForSpans(
      (candidate) => candidate.traceId === traceId && candidate.span.kind === Span_SpanKind.SERVER,
    );
    assert.ok(span);
    return span;
  };

  for (const { name, protocol, http, transport } of protocols.cases) {
    test(`${name}: one server span, child of the caller's span, with the RPC attributes; the log line has its ids`, async () => {
      const caller = callerContext();
      const result = await createClient(CalculatorService, transport).squareRoot({ number: 16 }, { headers: caller.headers });
      assert.equal(result.result, 4);
      const span = await serverSpan(caller.traceId);
      assert.equal(span.name, "calculator.v1.CalculatorService/SquareRoot");
      assert.equal(span.parentSpanId, caller.parentSpanId);
      assert.equal(span.span.traceState, "caller=abc", "tracestate is carried on");
      assert.equal(span.scope, "connect-polyglot-server");
      assert.deepEqual(
        {
          system: span.attributes["rpc.system.name"],
          method: span.attributes["rpc.method"],
          status: span.attributes["rpc.status_code"],
          version: span.attributes["network.protocol.version"],
          address: span.attributes["server.address"],
          port: span.attributes["server.port"],
        },
        {
          system: protocol === "connect" ? "connectrpc" : "grpc",
          method: "calculator.v1.CalculatorService/SquareRoot",
          status: "OK",
          version: http === "2.0" ? "2" : "1.1",
          address: "127.0.0.1",
          port: server.port,
        },
      );
      assert.equal(span.span.status?.code ?? Status_StatusCode.UNSET, Status_StatusCode.UNSET);
      assert.equal(span.resource["service.name"], "tracing-test");
      assert.equal(span.resource["deployment.environment.name"], "test");

      const line = logOf(caller.requestId);
      assert.equal(line.trace_id, caller.traceId);
      assert.equal(line.span_id, span.spanId);
    });
  }

  test("a client's mistake leaves the span's status unset; its status code says what happened", async () => {
    const [grpc] = protocols.cases;
    assert.ok(grpc);
    const caller = callerContext();
    const error = await rejection(createClient(CalculatorService, grpc.transport).squareRoot({ number: -1 }, { headers: caller.headers }));
    assert.equal(error.code, Code.InvalidArgument);
    const span = await serverSpan(caller.traceId);
    assert.equal(span.attributes["rpc.status_code"], "INVALID_ARGUMENT");
    assert.equal(span.attributes["rpc.grpc.status_code"], Code.InvalidArgument);
    assert.equal(span.span.status?.code ?? Status_StatusCode.UNSET, Status_StatusCode.UNSET);
  });

  test("an unknown procedure: a span named _OTHER with ERROR status (UNIMPLEMENTED), in the caller's trace", async () => {
    const caller = callerContext();
    const response = await fetch(`${server.baseUrl}/calculator.v1.CalculatorService/Nope`, {
      method: "POST",
      headers: { "content-type": "application/json", ...caller.headers },
      body: "{}",
    });
    assert.equal(response.status, 404);
    await response.arrayBuffer();
    const span = await serverSpan(caller.traceId);
    assert.equal(span.name, "_OTHER");
    assert.equal(span.parentSpanId, caller.parentSpanId);
    assert.equal(span.attributes["rpc.status_code"], "UNIMPLEMENTED");
    assert.equal(span.span.status?.code, Status_StatusCode.ERROR);
    const line = server.logs.find((record) => record.trace_id === caller.traceId);
    assert.equal(line?.span_id, span.spanId, "its log line has the span's ids");
  });

  test("a call that ends before any interceptor (wrong content type) still gets its span and joined log line", async () => {
    const caller = callerContext();
    const response = await fetch(`${server.baseUrl}/calculator.v1.CalculatorService/SquareRoot`, {
      method: "POST",
      headers: { "content-type": "text/plain", ...caller.headers },
      body: "16",
    });
    assert.equal(response.status, 415);
    await response.arrayBuffer();
    const span = await serverSpan(caller.traceId);
    assert.equal(span.name, "calculator.v1.CalculatorService/SquareRoot");
    assert.equal(span.parentSpanId, caller.parentSpanId);
    assert.equal(span.attributes["rpc.status_code"], "INVALID_ARGUMENT");
    assert.equal(logOf(caller.requestId).trace_id, caller.traceId, "x-request-id is honoured and the log line joins the trace");
  });

  test("database queries are child spans of the call, in unary and streaming calls", async () => {
    const [grpc] = protocols.cases;
    assert.ok(grpc);
    const movies = createClient(MovieService, grpc.transport);
    const unary = callerContext();
    await movies.getMovie({ id: "00000000-0000-4000-8000-000000000000" }, { headers: unary.headers }).catch(() => {});
    const streaming = callerContext();
    for await (const _ of movies.listMovies({}, { headers: streaming.headers })) {
      // Read them all.
    }
    for (const caller of [unary, streaming]) {
      const call = await serverSpan(caller.traceId);
      const [query] = await receiver.waitForSpans((span) => span.traceId === caller.traceId && span.span.kind === Span_SpanKind.CLIENT);
      assert.ok(query);
      assert.equal(query.parentSpanId, call.spanId, `${call.name}: the query is a child of the call's span`);
      assert.equal(query.name, "SELECT");
      assert.equal(query.attributes["db.system.name"], "sqlite");
      assert.match(String(query.attributes["db.query.text"]), /^select /i);
    }
  });

  test("without trace context a call starts a trace of its own; a caller that does not sample is followed", async () => {
    const [, , connectJson] = protocols.cases;
    assert.ok(connectJson);
    const calculator = createClient(CalculatorService, connectJson.transport);
    const unsampled = callerContext(false);
    await calculator.add({ a: 1, b: 2 }, { headers: unsampled.headers });
    const requestId = `req-${randomBytes(4).toString("hex")}`;
    await calculator.add({ a: 2, b: 2 }, { headers: { "x-request-id": requestId } });
    const line = logOf(requestId);
    assert.match(String(line.trace_id), /^[0-9a-f]{32}$/);
    const span = await serverSpan(String(line.trace_id));
    assert.equal(span.parentSpanId, "", "a root span");
    assert.equal(span.spanId, line.span_id);
    // Spans are exported in batches: by the time the root span arrived, an unsampled one would have too.
    assert.equal(
      receiver.spans.filter((received) => received.traceId === unsampled.traceId).length,
      0,
      "the caller did not sample its trace (flags 00): no span",
    );
    assert.equal(logOf(unsampled.requestId).trace_id, unsampled.traceId, "the log line still names the caller's trace");
    assert.deepEqual(receiver.rejected, []);
  });
});

describe("tracing off (no OTEL_* variables)", async () => {
  const server = await startTestServer();
  after(() => server.shutdown());

  test("log lines carry no trace fields, and a traceparent changes nothing", async () => {
    const caller = callerContext();
    const [, , connectJson] = protocolCases(server.baseUrl).cases;
    assert.ok(connectJson);
    await createClient(CalculatorService, connectJson.transport).add({ a: 1, b: 2 }, { headers: caller.headers });
    const line = await server.waitForCallLog("/calculator.v1.CalculatorService/Add");
    assert.equal(line.requestId, caller.requestId);
    assert.equal(line.trace_id, undefined);
    assert.equal(line.span_id, undefined);
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { brotliDecompressSync, gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SquareRootRequestSchema, SquareRootResponseSchema } from "../../gen/calculator/v1/calculator_pb.js";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import {
  LotsOfGreetingsRequestSchema,
  LotsOfGreetingsResponseSchema,
  LotsOfRepliesRequestSchema,
} from "../../gen/greeter/v1/greeter_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { envelope, envelopes } from "../support/raw.js";
import { h1Request, h2Request, paddedTo, type RawRequest, type RawResponse, single } from "./raw.js";
import type { CallCounter, ServerProcess } from "./server-process.js";
import { registeredServices } from "./services.js";

const squareRoot = "/calculator.v1.CalculatorService/SquareRoot";
const lotsOfGreetings = "/greeter.v1.GreeterService/LotsOfGreetings";
const lotsOfReplies = "/greeter.v1.GreeterService/LotsOfReplies";
const grpcHeaders = { "content-type": "application/grpc", te: "trailers" };
const sqrtOf = (number: number) => toBinary(SquareRootRequestSchema, create(SquareRootRequestSchema, { number }));
const greeting = (name: string) => toBinary(LotsOfGreetingsRequestSchema, create(LotsOfGreetingsRequestSchema, { name }));

/** The gRPC status of a raw answer: from trailers, or from headers for a trailers-only answer. */
function grpcStatus(response: RawResponse): { code: number; message: string } {
  const code = single(response.trailers["grpc-status"]) ?? single(response.headers["grpc-status"]);
  const message = single(response.trailers["grpc-message"]) ?? single(response.headers["grpc-message"]) ?? "";
  assert.ok(code !== undefined, `no grpc-status in ${JSON.stringify(response.headers)} / ${JSON.stringify(response.trailers)}`);
  return { code: Number(code), message: decodeURIComponent(message) };
}

function connectError(response: RawResponse): { code: string; message: string; details?: Array<{ type: string; value: string }> } {
  return JSON.parse(response.body.toString("utf8")) as { code: string; message: string };
}

/** A Connect GET URL path for SquareRoot(number), JSON-encoded. */
const getSquareRoot = (number: number) => `${squareRoot}?encoding=json&message=${encodeURIComponent(JSON.stringify({ number }))}`;

/**
 * What no generated client would send, after the categories of the Connect
 * conformance suite, with raw node:http and node:http2. Each case ends with the
 * server still serving.
 */
export function edgeCaseSuite(server: () => ServerProcess, counter: CallCounter, readMaxBytes: number): void {
  const h2 = async (request: RawRequest) => {
    counter.add("raw node:http2");
    return h2Request(server().baseUrl, request);
  };
  const h1 = async (request: RawRequest) => {
    counter.add("raw node:http");
    return h1Request(server().baseUrl, request);
  };
  const stillServing = async () => {
    const answer = await h1({ path: squareRoot, headers: { "content-type": "application/json" }, body: '{"number": 9}' });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body.toString("utf8")), { result: 3 });
  };

  describe("protocol edge cases", () => {
    test("unexpected HTTP verb: 405", async () => {
      for (const method of ["PUT", "DELETE", "PATCH"]) {
        const answer = await h1({ method, path: squareRoot, headers: { "content-type": "application/json" }, body: '{"number": 4}' });
        assert.equal(answer.status, 405, method);
      }
      // GET only for methods marked NO_SIDE_EFFECTS, and only unary ones.
      const query = `?encoding=json&message=${encodeURIComponent("{}")}`;
      assert.equal((await h1({ method: "GET", path: `/Calculator/SquareRoot${query}` })).status, 405);
      assert.equal((await h1({ method: "GET", path: `${lotsOfGreetings}${query}` })).status, 405);
      await stillServing();
    });

    test("unexpected path: 404", async () => {
      for (const path of [
        "/calculator.v1.CalculatorService/Nope",
        "/no.such.Service/Method",
        "/nope",
        "/calculator.v1.CalculatorService",
      ]) {
        const answer = await h1({ path, headers: { "content-type": "application/json" }, body: "{}" });
        assert.equal(answer.status, 404, path);
      }
      await stillServing();
    });

    test("unexpected codec or content type: 415", async () => {
      const cases: RawRequest[] = [
        { path: squareRoot, headers: { "content-type": "application/xml" }, body: "<number>4</number>" },
        { path: squareRoot, headers: { "content-type": "text/plain" }, body: "4" },
        { path: lotsOfGreetings, headers: { "content-type": "application/connect+xml" }, body: envelope(Buffer.from("<name/>")) },
        { method: "GET", path: `${squareRoot}?encoding=xml&message=4` },
      ];
      for (const request of cases) assert.equal((await h1(request)).status, 415, JSON.stringify(request.headers ?? request.path));
      const grpcXml = await h2({
        path: squareRoot,
        headers: { ...grpcHeaders, "content-type": "application/grpc+xml" },
        body: envelope(sqrtOf(4)),
      });
      assert.equal(grpcXml.status, 415);
      await stillServing();
    });

    test("unexpected compression: UNIMPLEMENTED, naming what is supported", async () => {
      const grpc = await h2({ path: squareRoot, headers: { ...grpcHeaders, "grpc-encoding": "snappy" }, body: envelope(sqrtOf(4), 1) });
      assert.equal(grpcStatus(grpc).code, Code.Unimplemented);
      assert.match(grpcStatus(grpc).message, /unknown compression "snappy": supported encodings are gzip,br/);

      const unary = await h1({
        path: squareRoot,
        headers: { "content-type": "application/json", "content-encoding": "snappy" },
        body: '{"number": 4}',
      });
      assert.equal(unary.status, 501);
      assert.equal(connectError(unary).code, "unimplemented");

      const stream = await h2({
        path: lotsOfGreetings,
        headers: { "content-type": "application/connect+json", "connect-content-encoding": "snappy" },
        body: envelope(Buffer.from('{"name": "A"}')),
      });
      const [end] = envelopes(stream.body);
      assert.equal(end?.flags, 2, "an end-of-stream message");
      assert.equal((JSON.parse(end.data.toString("utf8")) as { error: { code: string } }).error.code, "unimplemented");
      await stillServing();
    });

    // gRPC's compression spec prescribes INTERNAL here; the message says what the client got wrong.
    test("a compressed message without negotiated compression: INTERNAL, as the gRPC spec says", async () => {
      const gzipped = gzipSync(sqrtOf(4));
      const grpc = await h2({ path: squareRoot, headers: grpcHeaders, body: envelope(gzipped, 1) });
      assert.equal(grpcStatus(grpc).code, Code.Internal);
      assert.match(grpcStatus(grpc).message, /flagged as compressed, but the request names no compression/);

      const grpcWeb = await h1({ path: squareRoot, headers: { "content-type": "application/grpc-web+proto" }, body: envelope(gzipped, 1) });
      const trailer = envelopes(grpcWeb.body).find(({ flags }) => flags === 0x80);
      assert.match(trailer?.data.toString("utf8") ?? "", /grpc-status: 13\r\n/);

      const connect = await h2({
        path: lotsOfGreetings,
        headers: { "content-type": "application/connect+proto" },
        body: envelope(gzipSync(greeting("A")), 1),
      });
      const [end] = envelopes(connect.body);
      assert.ok(end, "an end-of-stream message");
      assert.equal((JSON.parse(end.data.toString("utf8")) as { error: { code: string } }).error.code, "internal");
      await stillServing();
    });

    test("gRPC without te: trailers is refused with HTTP 400 and the reason, and the server keeps serving", async () => {
      const answer = await h2({ path: squareRoot, headers: { "content-type": "application/grpc" }, body: envelope(sqrtOf(4)) });
      assert.equal(answer.status, 400);
      assert.deepEqual(grpcStatus(answer), { code: Code.InvalidArgument, message: 'gRPC requests must carry the header "te: trailers"' });
      assert.equal(answer.body.length, 0, "a trailers-only answer: no message");
      await stillServing();
    });

    test("connect-protocol-version: optional (plain curl works), but another version is refused", async () => {
      const answer = await h1({ path: squareRoot, headers: { "content-type": "application/json" }, body: '{"number": 16}' });
      assert.equal(answer.status, 200);
      assert.deepEqual(JSON.parse(answer.body.toString("utf8")), { result: 4 });
      const withVersion = await h1({
        path: squareRoot,
        headers: { "content-type": "application/json", "connect-protocol-version": "1" },
        body: '{"number": 16}',
      });
      assert.equal(withVersion.status, 200);

      const wrong = await h1({
        path: squareRoot,
        headers: { "content-type": "application/json", "connect-protocol-version": "2" },
        body: '{"number": 16}',
      });
      assert.equal(wrong.status, 400);
      assert.deepEqual(connectError(wrong), {
        code: "invalid_argument",
        message: 'the header connect-protocol-version must be "1" (or left out), got "2"',
      });
      const wrongStream = await h2({
        path: lotsOfGreetings,
        headers: { "content-type": "application/connect+json", "connect-protocol-version": "0" },
        body: envelope(Buffer.from('{"name": "A"}')),
      });
      const [end] = envelopes(wrongStream.body);
      assert.ok(end, "an end-of-stream message");
      assert.equal((JSON.parse(end.data.toString("utf8")) as { error: { code: string } }).error.code, "invalid_argument");

      assert.equal((await h1({ method: "GET", path: `${getSquareRoot(16)}&connect=v1` })).status, 200);
      const wrongGet = await h1({ method: "GET", path: `${getSquareRoot(16)}&connect=v2` });
      assert.equal(wrongGet.status, 400);
      assert.match(connectError(wrongGet).message, /query parameter connect must be "v1"/);
      // gRPC requests carry no such marker and are not affected.
      assert.equal(
        grpcStatus(await h2({ path: squareRoot, headers: { ...grpcHeaders, "connect-protocol-version": "2" }, body: envelope(sqrtOf(4)) }))
          .code,
        0,
      );
    });

    test("a request exactly at the size limit is served; one byte more is RESOURCE_EXHAUSTED", async () => {
      const atLimit = paddedTo(sqrtOf(4), readMaxBytes);
      const overLimit = paddedTo(sqrtOf(4), readMaxBytes + 1);

      const grpcAt = await h2({ path: squareRoot, headers: grpcHeaders, body: envelope(atLimit) });
      assert.equal(grpcStatus(grpcAt).code, 0);
      const [answerAt] = envelopes(grpcAt.body);
      assert.ok(answerAt, "an answer message");
      assert.equal(fromBinary(SquareRootResponseSchema, answerAt.data).result, 2);
      const grpcOver = await h2({ path: squareRoot, headers: grpcHeaders, body: envelope(overLimit) });
      assert.equal(grpcStatus(grpcOver).code, Code.ResourceExhausted);

      const binaryAt = await h1({ path: squareRoot, headers: { "content-type": "application/proto" }, body: atLimit });
      assert.equal(binaryAt.status, 200);
      const binaryOver = await h1({ path: squareRoot, headers: { "content-type": "application/proto" }, body: overLimit });
      assert.equal(binaryOver.status, 429);
      assert.equal(connectError(binaryOver).code, "resource_exhausted");

      const json = '{"number": 4}';
      const jsonAt = await h1({ path: squareRoot, headers: { "content-type": "application/json" }, body: json.padEnd(readMaxBytes, " ") });
      assert.deepEqual(JSON.parse(jsonAt.body.toString("utf8")), { result: 2 });
      const jsonOver = await h1({
        path: squareRoot,
        headers: { "content-type": "application/json" },
        body: json.padEnd(readMaxBytes + 1, " "),
      });
      assert.equal(jsonOver.status, 429);

      // A small compressed body that inflates past the limit is refused too.
      const bomb = await h1({
        path: squareRoot,
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
        body: gzipSync(json.padEnd(readMaxBytes * 4, " ")),
      });
      assert.equal(bomb.status, 429);
      await stillServing();
    });

    test("per streamed message: at the limit is served, one byte more is RESOURCE_EXHAUSTED", async () => {
      const big = paddedTo(greeting("Big"), readMaxBytes);
      const served = await h2({
        path: lotsOfGreetings,
        headers: grpcHeaders,
        body: Buffer.concat([envelope(big), envelope(greeting("Small"))]),
      });
      assert.equal(grpcStatus(served).code, 0);
      const [answer] = envelopes(served.body);
      assert.ok(answer, "an answer message");
      assert.equal(fromBinary(LotsOfGreetingsResponseSchema, answer.data).message, "Hello, Big and Small!");

      const tooBig = paddedTo(greeting("Big"), readMaxBytes + 1);
      const refused = await h2({
        path: lotsOfGreetings,
        headers: grpcHeaders,
        body: Buffer.concat([envelope(greeting("Small")), envelope(tooBig)]),
      });
      assert.equal(grpcStatus(refused).code, Code.ResourceExhausted);

      const connect = await h2({
        path: lotsOfGreetings,
        headers: { "content-type": "application/connect+proto" },
        body: Buffer.concat([envelope(greeting("Small")), envelope(tooBig)]),
      });
      const [end] = envelopes(connect.body);
      assert.ok(end, "an end-of-stream message");
      assert.equal((JSON.parse(end.data.toString("utf8")) as { error: { code: string } }).error.code, "resource_exhausted");
      await stillServing();
    });

    test("empty messages: an all-default request and answer are zero bytes", async () => {
      const grpc = await h2({ path: squareRoot, headers: grpcHeaders, body: envelope(new Uint8Array(0)) });
      assert.equal(grpcStatus(grpc).code, 0);
      assert.deepEqual(
        envelopes(grpc.body).map(({ data }) => data.length),
        [0],
        "one empty message: the square root of 0 is 0",
      );

      const binary = await h1({ path: squareRoot, headers: { "content-type": "application/proto" }, body: new Uint8Array(0) });
      assert.equal(binary.status, 200);
      assert.equal(binary.body.length, 0);

      const json = await h1({ path: squareRoot, headers: { "content-type": "application/json" }, body: "{}" });
      assert.deepEqual(JSON.parse(json.body.toString("utf8")), {});

      // No message at all is not the same as an empty one.
      const none = await h2({ path: squareRoot, headers: grpcHeaders, body: new Uint8Array(0) });
      assert.equal(grpcStatus(none).code, Code.Unimplemented);
      assert.match(grpcStatus(none).message, /missing input message/);
    });

    test("timeouts: a short deadline ends a slow call; a bad or too long one is refused", async () => {
      const slowReplies = toBinary(LotsOfRepliesRequestSchema, create(LotsOfRepliesRequestSchema, { name: "Slow", delayMs: 2_000 }));
      const started = performance.now();
      const expired = await h2({ path: lotsOfReplies, headers: { ...grpcHeaders, "grpc-timeout": "200m" }, body: envelope(slowReplies) });
      assert.equal(grpcStatus(expired).code, Code.DeadlineExceeded);
      assert.equal(envelopes(expired.body).length, 1, "the first greeting came before the deadline");
      assert.ok(performance.now() - started < 1_500);

      const garbled = await h2({ path: squareRoot, headers: { ...grpcHeaders, "grpc-timeout": "soon" }, body: envelope(sqrtOf(4)) });
      assert.equal(grpcStatus(garbled).code, Code.InvalidArgument);

      const tooLong = await h1({
        path: squareRoot,
        headers: { "content-type": "application/json", "connect-timeout-ms": "999999999" },
        body: '{"number": 4}',
      });
      assert.equal(tooLong.status, 400);
      assert.match(connectError(tooLong).message, /timeout 999999999ms must be <= \d+/);
      await stillServing();
    });

    test("duplicate and binary (-bin) metadata", async () => {
      const answer = await h2({
        path: squareRoot,
        headers: {
          ...grpcHeaders,
          "x-tag": ["one", "two"],
          "x-trace-bin": Buffer.from([0, 1, 2, 255]).toString("base64"),
          "x-unpadded-bin": "AAEC",
          "x-request-id": "raw-h2-1",
        },
        body: envelope(sqrtOf(4)),
      });
      assert.equal(grpcStatus(answer).code, 0);
      assert.equal(single(answer.headers["x-request-id"]), "raw-h2-1", "the request id is echoed");

      // Two request ids are no id: the server makes up a fresh one.
      const twice = await h2({ path: squareRoot, headers: { ...grpcHeaders, "x-request-id": ["a", "b"] }, body: envelope(sqrtOf(4)) });
      assert.equal(grpcStatus(twice).code, 0);
      assert.match(single(twice.headers["x-request-id"]) ?? "", /^[0-9a-f-]{36}$/);
    });

    test("error details in each protocol's own encoding", async () => {
      const expectBadRequest = (bytes: Uint8Array) => {
        const badRequest = fromBinary(BadRequestSchema, bytes);
        assert.deepEqual(
          badRequest.fieldViolations.map(({ field, reason }) => ({ field, reason })),
          [{ field: "number", reason: "NON_NEGATIVE" }],
        );
      };
      // Connect: JSON error body with base64 details.
      const connect = await h1({ path: squareRoot, headers: { "content-type": "application/json" }, body: '{"number": -1}' });
      assert.equal(connect.status, 400);
      const [detail] = connectError(connect).details ?? [];
      assert.equal(detail?.type, "google.rpc.BadRequest");
      expectBadRequest(Buffer.from(detail.value, "base64"));

      // gRPC: a google.rpc.Status in the grpc-status-details-bin trailer.
      const grpc = await h2({ path: squareRoot, headers: grpcHeaders, body: envelope(sqrtOf(-1)) });
      const statusBin = single(grpc.trailers["grpc-status-details-bin"]) ?? single(grpc.headers["grpc-status-details-bin"]);
      const status = fromBinary(StatusSchema, Buffer.from(statusBin ?? "", "base64"));
      assert.equal(status.code, Code.InvalidArgument);
      assert.equal(status.details[0]?.typeUrl, "type.googleapis.com/google.rpc.BadRequest");
      expectBadRequest(status.details[0].value);

      // gRPC-Web: the same trailer, inside the body's trailer frame.
      const grpcWeb = await h1({ path: squareRoot, headers: { "content-type": "application/grpc-web+proto" }, body: envelope(sqrtOf(-1)) });
      const trailerFrame =
        envelopes(grpcWeb.body)
          .find(({ flags }) => flags === 0x80)
          ?.data.toString("utf8") ?? "";
      const webStatusBin = /grpc-status-details-bin: (\S+)/.exec(trailerFrame)?.[1];
      const webStatus = fromBinary(StatusSchema, Buffer.from(webStatusBin ?? "", "base64"));
      const [webDetail] = webStatus.details;
      assert.ok(webDetail, "a detail in the gRPC-Web status");
      expectBadRequest(webDetail.value);
    });

    test("the server compresses a large answer, not a small one", async () => {
      const crowd = Buffer.concat(Array.from({ length: 300 }, (_, i) => envelope(greeting(`Person${i}`))));
      const large = await h2({ path: lotsOfGreetings, headers: { ...grpcHeaders, "grpc-accept-encoding": "br" }, body: crowd });
      assert.equal(grpcStatus(large).code, 0);
      assert.equal(single(large.headers["grpc-encoding"]), "br");
      const [frame] = envelopes(large.body);
      assert.equal(frame?.flags, 1, "compressed");
      const answer = fromBinary(LotsOfGreetingsResponseSchema, brotliDecompressSync(frame.data));
      assert.equal(answer.count, 300);
      assert.ok(frame.data.length < answer.message.length / 4, `${frame.data.length} bytes for ${answer.message.length} characters`);

      const small = await h2({ path: squareRoot, headers: { ...grpcHeaders, "grpc-accept-encoding": "gzip" }, body: envelope(sqrtOf(4)) });
      assert.equal(envelopes(small.body)[0]?.flags, 0, "below COMPRESS_MIN_BYTES: sent as is");

      const json = await h1({
        path: squareRoot,
        headers: { "content-type": "application/json", "accept-encoding": "gzip, br" },
        body: '{"number": 4}',
      });
      assert.equal(json.headers["content-encoding"], undefined);
    });

    test("Connect GET: Cache-Control and ETag, 304 for a matching If-None-Match, POST unchanged", async () => {
      for (const request of [h1, h2]) {
        const first = await request({ method: "GET", path: getSquareRoot(2) });
        assert.equal(first.status, 200);
        assert.equal(first.headers["cache-control"], "public, max-age=31536000, immutable");
        assert.match(single(first.headers.vary) ?? "", /Accept-Encoding/);
        const etag = single(first.headers.etag) ?? assert.fail("a cacheable answer has an ETag");
        assert.match(etag, /^W\/".+"$/);

        const again = await request({ method: "GET", path: getSquareRoot(2), headers: { "if-none-match": etag } });
        assert.equal(again.status, 304);
        assert.equal(again.body.length, 0);
        assert.equal(single(again.headers.etag), etag);

        const other = await request({ method: "GET", path: getSquareRoot(3), headers: { "if-none-match": etag } });
        assert.equal(other.status, 200, "a different answer has a different ETag");
        assert.notEqual(single(other.headers.etag), etag);
      }
      const failed = await h1({ method: "GET", path: getSquareRoot(-1) });
      assert.equal(failed.status, 400);
      assert.equal(failed.headers["cache-control"], undefined, "errors are not cached");
      assert.equal(failed.headers.etag, undefined);

      const post = await h1({ path: squareRoot, headers: { "content-type": "application/json" }, body: '{"number": 2}' });
      assert.equal(post.headers["cache-control"], undefined);
      assert.equal(post.headers.etag, undefined);
    });

    test("health over HTTP: /healthz and /readyz", async () => {
      for (const request of [h1, h2]) {
        const alive = await request({ method: "GET", path: "/healthz" });
        assert.equal(alive.status, 200);
        assert.equal(alive.body.toString("utf8"), "ok\n");
        assert.equal(alive.headers["cache-control"], "no-store");
        const ready = await request({ method: "GET", path: "/readyz" });
        assert.equal(ready.status, 200);
        assert.equal(ready.body.toString("utf8"), "ready\n");
        const head = await request({ method: "HEAD", path: "/readyz" });
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        const post = await request({ method: "POST", path: "/healthz", body: "" });
        assert.equal(post.status, 405);
        assert.equal(post.headers.allow, "GET, HEAD");
      }
    });

    test("health List reports every service SERVING", async () => {
      const health = createClient(Health, createConnectTransport({ baseUrl: server().baseUrl, httpVersion: "1.1" }));
      const { statuses } = await health.list({});
      counter.add("connect-node clients (matrix)");
      assert.deepEqual(Object.keys(statuses).sort(), ["", ...registeredServices].sort());
      for (const [service, { status }] of Object.entries(statuses)) assert.equal(status, 1, `${service} SERVING`);
    });
  });
}

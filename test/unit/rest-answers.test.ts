import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { CallSignal } from "../../server/fast-path/call.js";
import { RouteTable } from "../../server/rest/route-table.js";
import { statusBody } from "../../server/rest/status-body.js";
import { streamFormat } from "../../server/rest/stream-formats.js";
import { writeStream } from "../../server/rest/stream-writer.js";
import { parseTimeout } from "../../server/rest/timeout.js";
import { libraryService, tableOf } from "./rest-fixture.js";

describe("REST answers", () => {
  test("the stream format follows Accept; the JSON array by default", () => {
    assert.equal(streamFormat(undefined).contentType, "application/json");
    assert.equal(streamFormat("*/*").contentType, "application/json");
    assert.equal(streamFormat("text/event-stream").contentType, "text/event-stream");
    assert.equal(streamFormat("application/json, Text/Event-Stream;q=0.5").contentType, "text/event-stream");
    assert.equal(streamFormat("application/x-ndjson").contentType, "application/x-ndjson");
    assert.equal(streamFormat("text/event-stream;q=0, application/x-ndjson").contentType, "application/x-ndjson");
  });

  test("each format frames messages and failures so that the end stays readable", () => {
    const array = streamFormat(undefined);
    assert.equal(array.open + array.message("1", true) + array.message("2", false) + array.close(false), "[1,2]");
    assert.equal(array.open + array.message("1", true) + array.fail('{"code":14}', false), '[1,{"error":{"code":14}}]');
    const lines = streamFormat("application/x-ndjson");
    assert.equal(lines.message("{}", true) + lines.fail('{"code":14}', false), '{}\n{"error":{"code":14}}\n');
    const events = streamFormat("text/event-stream");
    assert.equal(events.message("{}", true) + events.close(false), "data: {}\n\nevent: end\ndata: {}\n\n");
    assert.equal(events.fail('{"code":14}', false), 'event: error\ndata: {"code":14}\n\n');
  });

  test("the timeout header: milliseconds, or with a unit; bounded by MAX_TIMEOUT_MS", () => {
    assert.equal(parseTimeout(undefined, 1000), undefined);
    assert.equal(parseTimeout("250", 60_000), 250);
    assert.equal(parseTimeout("250ms", 60_000), 250);
    assert.equal(parseTimeout(" 3s ", 60_000), 3000);
    assert.equal(parseTimeout("1m", 60_000), 60_000);
    for (const bad of ["", "-1", "1.5s", "1h", "soon", "12345678901", ["1", "2"]]) {
      assert.throws(() => parseTimeout(bad, 60_000), /timeout header must be/, String(bad));
    }
    assert.throws(() => parseTimeout("61s", 60_000), /more than the 60000 ms/);
  });

  test("an error body is a google.rpc.Status: the code's number, the message, details with @type first", () => {
    const error = new ConnectError("name is required", Code.InvalidArgument, undefined, [
      { desc: BadRequestSchema, value: { fieldViolations: [{ field: "name", description: "name is required", reason: "REQUIRED" }] } },
    ]);
    assert.equal(
      statusBody(error),
      '{"code":3,"message":"name is required","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"name","description":"name is required","reason":"REQUIRED"}]}]}',
    );
    const foreign = new ConnectError("odd", Code.Internal);
    foreign.details.push({ type: "acme.Secret", value: new Uint8Array([1, 2]) });
    assert.equal(statusBody(foreign), '{"code":13,"message":"odd"}', "a detail no registry knows is left out");
  });

  test("a slow reader pauses the stream; a reader that leaves ends it, the reason thrown into the messages", async () => {
    const service = libraryService();
    const match = new RouteTable([service], tableOf(service)).match("GET", "/v1/books:watch");
    assert.ok(match.kind === "route");
    const { route } = match;
    let produced = 0;
    let ended: unknown = "not yet";
    async function* messages(): AsyncGenerator<MessageShape<DescMessage>> {
      try {
        for (;;) {
          produced++;
          yield create(route.entry.method.output, { title: "x".repeat(64 * 1024) } as never) as MessageShape<DescMessage>;
        }
      } catch (error) {
        ended = error;
        throw error;
      } finally {
        if (ended === "not yet") ended = "returned";
      }
    }
    const signal = new CallSignal();
    let written: Promise<void> | undefined;
    const server = http.createServer((_req, res) => {
      res.on("close", () => signal.abort(new ConnectError("the client left", Code.Canceled)));
      written = writeStream(
        res,
        route,
        { messages: messages(), error: undefined, header: new Headers(), trailer: new Headers(), settleTrailer: () => {} },
        streamFormat("application/x-ndjson"),
        signal,
        {},
      );
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const req = http.get({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, path: "/", agent: false });
    const [res] = (await once(req, "response")) as [http.IncomingMessage];
    res.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const whilePaused = produced;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(produced, whilePaused, "nothing more is produced while the client reads nothing");
    assert.ok(produced < 200, `the socket's buffers hold a few messages, not all (${produced} of 64 KiB)`);
    req.destroy();
    await written;
    assert.ok(ended instanceof ConnectError && ended.code === Code.Canceled, `the messages learned why: ${String(ended)}`);
    server.close();
  });
});

import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../server/logger.js";

function capture(): { sink: Writable; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  return { sink, text: () => chunks.join("") };
}

const call = { procedure: "/greeter.v1.GreeterService/SayHello", protocol: "grpc", code: "ok", durationMs: 0.4 };

test("JSON format: one object per line with level, ISO time and message", () => {
  const { sink, text } = capture();
  createLogger({ logLevel: "info", logFormat: "json" }, sink).info(call, "call ok");
  const lines = text().trimEnd().split("\n");
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
  assert.equal(record.level, 30);
  assert.match(String(record.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(record.msg, "call ok");
  assert.equal(record.procedure, call.procedure);
  assert.equal("pid" in record || "hostname" in record, false);
});

test("pretty format: one readable line per call, written at once", () => {
  const { sink, text } = capture();
  createLogger({ logLevel: "info", logFormat: "pretty" }, sink).info(call, "call ok");
  const output = text();
  assert.equal(output.trimEnd().split("\n").length, 1);
  assert.match(output, /^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*call ok .*"procedure":"\/greeter\.v1\.GreeterService\/SayHello"/);
});

test("LOG_LEVEL filters", () => {
  const { sink, text } = capture();
  const logger = createLogger({ logLevel: "warn", logFormat: "json" }, sink);
  logger.info("hidden");
  logger.warn("shown");
  assert.deepEqual(
    text()
      .trimEnd()
      .split("\n")
      .map((line) => (JSON.parse(line) as { msg: string }).msg),
    ["shown"],
  );
});

test("pretty format: a message carrying line breaks, escapes or bidi overrides stays one line, written as escapes", () => {
  const { sink, text } = capture();
  const id = "x\n[12:00:00.000] INFO: forged\r\u001b[2K\u2028\u202e";
  createLogger({ logLevel: "info", logFormat: "pretty" }, sink).info({ id }, `call failed: id must be a UUID, got "${id}"`);
  const output = text();
  assert.equal(output.split("\n").length, 2, output);
  assert.ok(output.includes('got "x\\n[12:00:00.000] INFO: forged\\r\\u001b[2K\\u2028\\u202e"'), output);
  assert.ok(output.includes('"id":"x\\n[12:00:00.000] INFO: forged'), "fields stay JSON-escaped");
});

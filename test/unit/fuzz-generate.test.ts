import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { families } from "../../scripts/fuzz/case.js";
import { caseFromJson, caseToJson } from "../../scripts/fuzz/describe.js";
import { familyOf, generateCase, parseCaseId } from "../../scripts/fuzz/generate/index.js";
import { huffmanDigits, statusOf } from "../../scripts/fuzz/h2-frames.js";
import { Rng } from "../../scripts/fuzz/rng.js";
import { parseResponses } from "../../scripts/fuzz/send/raw-h1.js";

// The fuzzer's own parts that need no server: seeded generation and the
// decoders it judges raw answers with (the server is never mocked; these
// only check the tool itself).

describe("seeded generation", () => {
  test("the same seeds give the same numbers; others do not", () => {
    const draw = (rng: Rng) => Array.from({ length: 8 }, () => rng.u32());
    assert.deepEqual(draw(new Rng(42, 7)), draw(new Rng(42, 7)));
    assert.notDeepEqual(draw(new Rng(42, 7)), draw(new Rng(42, 8)));
    assert.notDeepEqual(draw(new Rng(42, 7)), draw(new Rng(43, 7)));
    const rng = new Rng(1);
    for (let i = 0; i < 1_000; i++) {
      const value = rng.int(-3, 3);
      assert.ok(Number.isInteger(value) && value >= -3 && value <= 3);
      const size = rng.logInt(10, 5_000);
      assert.ok(size >= 10 && size <= 5_000);
    }
  });

  test("a case id rebuilds exactly the same request, alone", () => {
    for (let index = 0; index < 300; index++) {
      const first = JSON.stringify(caseToJson(generateCase(9, index)));
      assert.equal(JSON.stringify(caseToJson(generateCase(9, index))), first, `case 9:${index}`);
    }
    for (let index = 0; index < 100; index++) {
      const saved = JSON.parse(JSON.stringify(caseToJson(generateCase(9, index)))) as Record<string, unknown>;
      assert.deepEqual(JSON.parse(JSON.stringify(caseToJson(caseFromJson(saved)))), saved, "a saved case loads back byte for byte");
    }
    assert.deepEqual(parseCaseId("42:1337"), { seed: 42, index: 1337 });
    assert.throws(() => parseCaseId("42-1337"), /SEED:INDEX/);
  });

  test("every family comes up, and familyOf agrees with the case", () => {
    const seen = new Set<string>();
    for (let index = 0; index < 2_000; index++) {
      const c = generateCase(3, index);
      assert.equal(c.family, familyOf(3, index));
      assert.equal(c.id, `3:${index}`);
      seen.add(c.family);
    }
    assert.deepEqual([...seen].sort(), [...families].sort());
  });

  test("valid requests are marked as such, mutated ones say what was done", () => {
    let valid = 0;
    for (let index = 0; index < 500; index++) {
      const c = generateCase(5, index);
      if (c.family === "rpc" && c.mutations.length === 0) valid++;
      if (c.family === "message" || c.family === "envelope" || c.family === "headers") assert.ok(c.mutations.length > 0, c.id);
    }
    assert.ok(valid > 20, `only ${valid} valid calls in 500 cases`);
  });
});

describe("HPACK :status", () => {
  test("static indexes and literals, Huffman-coded or not", () => {
    assert.equal(statusOf(Buffer.from([0x88])), 200);
    assert.equal(statusOf(Buffer.from([0x8d])), 404);
    assert.equal(statusOf(Buffer.from([0x48, 0x03, 0x34, 0x31, 0x35])), 415);
    // "415" Huffman-coded: 011010 00001 011011, then 1s to the byte boundary.
    assert.equal(huffmanDigits(Buffer.from([0x68, 0x2d, 0xff])), "415");
    assert.equal(statusOf(Buffer.from([0x48, 0x83, 0x68, 0x2d, 0xff])), 415);
    assert.equal(statusOf(Buffer.from([0xbe])), undefined, "a dynamic table index cannot be read alone");
  });
});

describe("raw HTTP/1.1 answers", () => {
  test("content-length, chunked, and an interim 100 Continue", () => {
    const plain = parseResponses(Buffer.from("HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nabc"), false);
    assert.deepEqual(
      plain.responses.map((r) => [r.status, r.body.toString()]),
      [[400, "abc"]],
    );
    assert.ok(plain.complete);
    const chunked = parseResponses(
      Buffer.from("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
      false,
    );
    assert.deepEqual(
      chunked.responses.map((r) => [r.status, r.body.toString()]),
      [
        [100, ""],
        [200, "ok"],
      ],
    );
    const grpc = parseResponses(Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\ngrpc-status: 3\r\n\r\n"), false);
    assert.deepEqual(grpc.responses[0]?.trailers, { "grpc-status": "3" }, "gRPC over HTTP/1.1 says its status in chunked trailers");
    assert.equal(parseResponses(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), false).complete, false);
    assert.notEqual(parseResponses(Buffer.from("garbage\r\n\r\n"), false).unparsed, undefined);
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressions } from "../../server/compression.js";
import { ConfigError, loadConfig } from "../../server/config.js";

const text = new TextEncoder().encode(`Hello, ${Array.from({ length: 300 }, (_, i) => `Person${i}`).join(", ")}!`);

test("gzip and br, in that order of preference, each readable by the standard decoder", async () => {
  assert.deepEqual(
    compressions.map(({ name }) => name),
    ["gzip", "br"],
  );
  const [gzip, br] = compressions;
  assert.ok(gzip && br);
  assert.deepEqual(new Uint8Array(gunzipSync(await gzip.compress(text))), text);
  const brotli = await br.compress(text);
  assert.deepEqual(new Uint8Array(brotliDecompressSync(brotli)), text);
  assert.ok(brotli.length < text.length / 5, `${brotli.length} bytes for ${text.length}`);
  assert.deepEqual(new Uint8Array(await br.decompress(brotli, text.length)), text);
});

test("decompression stops at the size limit", async () => {
  const [, br] = compressions;
  assert.ok(br, "br is one of the compressions");
  const error = await br.decompress(await br.compress(text), text.length - 1).then(
    () => assert.fail("expected the limit to be enforced"),
    (reason: unknown) => ConnectError.from(reason),
  );
  assert.equal(error.code, Code.ResourceExhausted);
});

test("COMPRESS_MIN_BYTES: 1024 by default, configurable, checked", () => {
  assert.equal(loadConfig({}, false).compressMinBytes, 1024);
  assert.equal(loadConfig({ COMPRESS_MIN_BYTES: "0" }, false).compressMinBytes, 0);
  assert.throws(
    () => loadConfig({ COMPRESS_MIN_BYTES: "1kb" }, false),
    (error) => error instanceof ConfigError && /COMPRESS_MIN_BYTES/.test(error.message),
  );
});

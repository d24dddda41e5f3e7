import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { notFound } from "../../server/transport/grpc-answers.js";
import { withApiDescription } from "../../server/web/openapi.js";
import { contentSecurityPolicy } from "../../server/web/static.js";
import { memoryLogger } from "../support/logs.js";

const document = { openapi: "3.1.0", info: { title: "t", version: "1" }, paths: {}, tags: [{ name: "a" }, { name: "b" }] };

/** Serves the handler on a free port; `describe` counts how often the document was built. */
async function serve(describe: () => Promise<object>) {
  const { logger, logs } = memoryLogger();
  const server = http.createServer(withApiDescription({ describe, otherwise: notFound, logger }));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, logs, [Symbol.asyncDispose]: () => new Promise<void>((done) => server.close(() => done())) };
}

describe("/openapi.json and /openapi.yaml", () => {
  test("serve the document as JSON and YAML, built once, with the page's headers and an ETag to revalidate", async () => {
    let built = 0;
    await using server = await serve(async () => {
      built += 1;
      return document;
    });
    const json = await fetch(`${server.url}/openapi.json`);
    assert.equal(json.status, 200);
    assert.equal(json.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(json.headers.get("cache-control"), "no-cache");
    assert.equal(json.headers.get("content-security-policy"), contentSecurityPolicy);
    assert.equal(json.headers.get("x-content-type-options"), "nosniff");
    assert.deepEqual(await json.json(), document);
    const etag = json.headers.get("etag") ?? "";
    assert.match(etag, /^"[\w-]{27}"$/);

    const yaml = await fetch(`${server.url}/openapi.yaml?v=1`);
    assert.equal(yaml.headers.get("content-type"), "application/yaml; charset=utf-8");
    const text = await yaml.text();
    assert.doesNotMatch(text, /[&*]a\d/, "no anchors or aliases");
    assert.deepEqual(parse(text), document);
    assert.notEqual(yaml.headers.get("etag"), etag, "each form has its own tag");

    const again = await fetch(`${server.url}/openapi.json`, { headers: { "if-none-match": `W/"old", ${etag}` } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get("etag"), etag);
    assert.equal(await again.text(), "");
    const head = await fetch(`${server.url}/openapi.json`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), json.headers.get("content-length"));
    assert.equal(built, 1, "built on the first request, then kept");
  });

  test("leave other methods and paths to the next handler", async () => {
    await using server = await serve(async () => document);
    assert.equal((await fetch(`${server.url}/openapi.json`, { method: "POST", body: "{}" })).status, 404);
    assert.equal((await fetch(`${server.url}/openapi.yml`)).status, 404);
    assert.equal((await fetch(`${server.url}/openapi.json/`)).status, 404);
  });

  test("answer 500 when the document cannot be built, log why, and try again on the next request", async () => {
    let attempts = 0;
    await using server = await serve(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("no such method");
      return document;
    });
    const failed = await fetch(`${server.url}/openapi.json`);
    assert.equal(failed.status, 500);
    assert.equal(server.logs.find((line) => line.msg === "the API description could not be built")?.path, "/openapi.json");
    assert.equal((await fetch(`${server.url}/openapi.json`)).status, 200);
  });
});

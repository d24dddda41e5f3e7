import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { parse } from "yaml";
import { assertValidOpenApi } from "../support/openapi.js";
import { startTestServer } from "../support/server.js";
import { authEnv, mintToken } from "../support/tokens.js";

// The description as a deployed server serves it: with tokens on, other
// origins allowed, and a host name of its own; through the one dispatcher,
// over both HTTP versions.

interface Served {
  readonly paths: Record<string, Record<string, { security?: unknown }>>;
  readonly components: { readonly securitySchemes?: Record<string, { type: string; scheme: string }> };
}

const origin = "https://app.example";
const server = await startTestServer({ ...authEnv, ALLOWED_ORIGINS: origin, ALLOWED_HOSTS: "api.example.com" });
after(() => server.shutdown());
const url = `${server.baseUrl}/openapi.json`;

/** One HTTP/1.1 GET with exactly this Host. */
function getWithHost(host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port: server.port, path, headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end();
  });
}

describe("/openapi.json and /openapi.yaml on a server with tokens", () => {
  test("the served document is valid OpenAPI 3.1 and says which token each operation needs", async () => {
    const served = (await (await fetch(url)).json()) as Served;
    await assertValidOpenApi(served);
    assert.deepEqual(served.components.securitySchemes?.bearer?.scheme, "bearer");
    assert.deepEqual(served.paths["/v1/orders"]?.post?.security, [{ bearer: ["orders:write"] }]);
    assert.deepEqual(served.paths["/v1/orders"]?.get?.security, [{}, { bearer: [] }]);
  });

  test("the server enforces what the document says: the scope it names lets the call through, nothing less does", async () => {
    const create = (authorization?: string) =>
      fetch(`${server.baseUrl}/v1/orders`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
        body: '{"name":"tea"}',
      });
    assert.equal((await create()).status, 401);
    assert.equal((await create(`Bearer ${await mintToken({ scope: "movies:write" })}`)).status, 403);
    assert.equal((await create(`Bearer ${await mintToken({ scope: "orders:write" })}`)).status, 200);
    assert.equal((await fetch(`${server.baseUrl}/v1/orders`)).status, 200, "a read works without a token");
  });

  test("the YAML form is the same document", async () => {
    const yaml = await fetch(`${server.baseUrl}/openapi.yaml`);
    assert.equal(yaml.headers.get("content-type"), "application/yaml; charset=utf-8");
    assert.deepEqual(parse(await yaml.text()), await (await fetch(url)).json());
  });

  test("revalidates with its ETag, answers allowed origins (CORS), and refuses other host names", async () => {
    const first = await fetch(url, { headers: { origin } });
    assert.equal(first.headers.get("access-control-allow-origin"), origin);
    assert.equal(first.headers.get("cache-control"), "no-cache");
    const again = await fetch(url, { headers: { "if-none-match": first.headers.get("etag") ?? "" } });
    assert.equal(again.status, 304);
    assert.equal((await fetch(url, { headers: { origin: "https://elsewhere.example" } })).headers.get("access-control-allow-origin"), null);
    assert.equal(await getWithHost("api.example.com", "/openapi.json"), 200);
    assert.equal(await getWithHost("attacker.example", "/openapi.json"), 421);
    assert.equal(await getWithHost("attacker.example", "/docs"), 421);
  });

  test("over HTTP/2 too, as the page's files are served", async () => {
    const session = http2.connect(server.baseUrl);
    try {
      const stream = session.request({ ":path": "/openapi.json" });
      const [headers, body] = await Promise.all([
        new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve)),
        new Promise<string>((resolve) => {
          const chunks: Buffer[] = [];
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("end", () => resolve(Buffer.concat(chunks).toString()));
        }),
      ]);
      assert.equal(headers[":status"], 200);
      assert.equal((JSON.parse(body) as { openapi: string }).openapi, "3.1.0");
    } finally {
      session.close();
    }
  });
});

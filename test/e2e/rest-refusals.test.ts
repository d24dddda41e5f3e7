import assert from "node:assert/strict";
import * as net from "node:net";
import { after, describe, test } from "node:test";
import { RestClient } from "../support/rest.js";
import { startTestServer } from "../support/server.js";

// What REST refuses, and how: a google.rpc.Status body (AIP-193) with the
// HTTP status Connect uses for its code, or 404, 405 and 415 for what never
// became a call; each one logged.

const json = { "content-type": "application/json" };

interface Status {
  readonly code: number;
  readonly message: string;
  readonly details?: ReadonlyArray<Record<string, unknown>>;
}

const server = await startTestServer({ READ_MAX_BYTES: "4096", MAX_TIMEOUT_MS: "60000" });
after(() => server.shutdown());

for (const version of ["1.1", "2"] as const) {
  describe(`REST refusals over HTTP/${version}`, () => {
    const client = new RestClient(server.port, version);
    after(() => client.close());

    const refused = async (status: number, code: number, path: string, options: Parameters<RestClient["request"]>[1] = {}) => {
      const answer = await client.request(path, options);
      assert.equal(answer.status, status, answer.text);
      assert.equal(answer.headers["content-type"], "application/json");
      const body = answer.json<Status>();
      assert.equal(body.code, code, answer.text);
      assert.ok(body.message.length > 0);
      return { answer, body };
    };

    test("an unknown route under /v1 is 404 with a JSON body; other paths stay the page's", async () => {
      await refused(404, 5, "/v1/nope");
      await refused(404, 5, "/v1/movies/a/b");
      await refused(404, 5, "/v1");
      await refused(404, 5, "/v1/calculator:cube?number=2");
      const page = await client.get("/no-such-page");
      assert.equal(page.status, 404);
      assert.notEqual(page.headers["content-type"], "application/json", "outside /v1 the page's 404 answers");
    });

    test("the listener's own refusals on /v1 are google.rpc.Status too; elsewhere they stay as before", async () => {
      // A host name the server does not answer for (ALLOWED_HOSTS): refused before any route sees the request.
      const foreign: Record<string, string> = version === "2" ? { ":authority": "evil.example" } : { host: "evil.example" };
      const { body } = await refused(421, 7, "/v1/movies", { headers: foreign });
      assert.match(body.message, /does not answer for the host name "evil\.example"/);
      const page = await client.get("/index.html", foreign);
      assert.equal(page.status, 421);
      assert.match(page.headers["content-type"] ?? "", /^text\/plain/, "outside /v1 the refusal is plain text, as before");
    });

    test("a known route with the wrong method is 405 with Allow", async () => {
      const { answer } = await refused(405, 12, "/v1/movies/abc", { method: "PUT", body: {} });
      assert.equal(answer.headers.allow, "GET, PATCH, DELETE");
      const post = await refused(405, 12, "/v1/orders:watch", { method: "POST", body: {} });
      assert.equal(post.answer.headers.allow, "GET");
      const head = await client.request("/v1/movies", { method: "OPTIONS" });
      assert.equal(head.status, 405);
      assert.equal(head.headers.allow, "GET, POST");
    });

    test("a body that is not JSON is 415: forms, text/plain, multipart, none", async () => {
      for (const contentType of [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin1",
        "application/jsonx",
      ]) {
        const { body } = await refused(415, 3, "/v1/orders", {
          method: "POST",
          headers: { "content-type": contentType },
          body: '{"name":"tea"}',
        });
        assert.match(body.message, /takes a JSON body/);
      }
      await refused(415, 3, "/v1/orders", { method: "POST", body: '{"name":"tea"}' });
      const utf8 = await client.request("/v1/greeter:sayHello", {
        method: "POST",
        headers: { "content-type": "application/json; charset=UTF-8" },
        body: '{"name":"Ada"}',
      });
      assert.equal(utf8.status, 200);
    });

    test("errors carry their details with @type: a broken rule names its field", async () => {
      const { body } = await refused(400, 3, "/v1/greeter:sayHello", { method: "POST", body: { name: "Bartholomew" } });
      assert.deepEqual(body, {
        code: 3,
        message: "name cannot be more than 10 characters, got 11",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            fieldViolations: [{ field: "name", description: "name cannot be more than 10 characters, got 11", reason: "MAX_LENGTH" }],
          },
        ],
      });
      await refused(400, 3, "/v1/calculator:squareRoot?number=-1");
      await refused(400, 3, "/v1/calculator:divide?a=1&b=0");
      await refused(404, 5, "/v1/orders/00000000-0000-4000-8000-000000000000");
      await refused(400, 3, "/v1/orders/not-a-uuid");
    });

    test("bad query values, unknown and repeated parameters, bad JSON: INVALID_ARGUMENT naming what is wrong", async () => {
      assert.match((await refused(400, 3, "/v1/orders?page_size=x")).body.message, /page_size.*expected number/);
      assert.match((await refused(400, 3, "/v1/orders?completed=yes")).body.message, /completed.*expected boolean/);
      assert.match((await refused(400, 3, "/v1/calculator:add?a=1&b=2&c=3")).body.message, /unknown query parameter "c"/);
      assert.match((await refused(400, 3, "/v1/calculator:add?a=1&a=2")).body.message, /more than once/);
      assert.match((await refused(400, 3, "/v1/calculator:add?a=1&b=%zz")).body.message, /b/);
      assert.match(
        (await refused(400, 3, "/v1/orders/00000000-0000-4000-8000-000000000000?id=x", { method: "DELETE" })).body.message,
        /which the path already sets/,
      );
      assert.match((await refused(400, 3, "/v1/orders?name=tea", { method: "POST", body: {} })).body.message, /takes from the body/);
      assert.match((await refused(400, 3, "/v1/orders", { method: "POST", headers: json, body: "{" })).body.message, /not valid JSON/);
      assert.match(
        (await refused(400, 3, "/v1/orders", { method: "POST", headers: json, body: "[]" })).body.message,
        /must be a JSON object/,
      );
      assert.match((await refused(400, 3, "/v1/orders", { method: "POST", body: { name: "tea", colour: "red" } })).body.message, /colour/);
      assert.match((await refused(400, 3, "/v1/orders", { method: "POST", body: { name: 5 } })).body.message, /name/);
      assert.match((await refused(400, 3, "/v1/movies/%E0%A4%A", { method: "GET" })).body.message, /percent-encoding/);
      assert.match(
        (await refused(400, 3, "/v1/movies/abc", { method: "DELETE", headers: json, body: "{}" })).body.message,
        /takes no body/,
      );
      assert.match(
        (await refused(400, 3, "/v1/orders", { method: "POST", headers: json, body: `{"name":${"[".repeat(40)}` })).body.message,
        /nests deeper/,
      );
    });

    test("bounds before work: too many parameters, a body over READ_MAX_BYTES, a huge query", async () => {
      const many = Array.from({ length: 101 }, (_, i) => `title_contains=${i}`).join("&");
      assert.match((await refused(400, 3, `/v1/movies?${many}`)).body.message, /more than 100 parameters/);
      const big = { name: "x".repeat(5000) };
      assert.match((await refused(429, 8, "/v1/orders", { method: "POST", body: big })).body.message, /READ_MAX_BYTES/);
      // Past MAX_HEADER_BYTES (16 KiB) the listener refuses the request line itself, as for every protocol.
      const huge = await client.get(`/v1/movies?title_contains=${"m".repeat(20_000)}`).catch(() => undefined);
      assert.ok(huge === undefined || huge.status === 431, `got ${huge?.status}`);
      assert.equal((await client.get("/v1/movies?title_contains=mar")).status, 200, "the server still answers");
    });

    test("the timeout header is a deadline; a bad one is refused", async () => {
      assert.match((await refused(400, 3, "/v1/movies", { headers: { timeout: "soon" } })).body.message, /timeout header/);
      assert.match((await refused(400, 3, "/v1/movies", { headers: { timeout: "2m" } })).body.message, /MAX_TIMEOUT_MS/);
      await refused(504, 4, "/v1/calculator:add?a=1&b=2", { headers: { timeout: "0" } });
      assert.equal((await client.get("/v1/calculator:add?a=1&b=2", { timeout: "5s" })).status, 200);
      const late = await client.get("/v1/greeter:lotsOfReplies?name=Ada&delay_ms=300", { timeout: "100ms" });
      assert.equal(late.status, 200, "the stream had begun");
      const elements = late.json<Array<{ error?: Status }>>();
      assert.ok(elements.length >= 1 && elements.length < 7, "some greetings, then the deadline");
      assert.equal(elements.at(-1)?.error?.code, 4, "the last element says the stream failed: DEADLINE_EXCEEDED");
    });
  });
}

test("refusals are logged with protocol rest, and the request's id", async () => {
  const client = new RestClient(server.port, "1.1");
  await client.request("/v1/orders", { method: "POST", headers: { "content-type": "text/plain", "x-request-id": "rest-415" }, body: "x" });
  const line = server.logs.find((record) => record.requestId === "rest-415");
  assert.ok(line);
  assert.equal(line.protocol, "rest");
  assert.equal(line.procedure, "/order.v1.OrderService/CreateOrder");
  assert.equal(line.status, 415);
  await client.get("/v1/nowhere", { "x-request-id": "rest-404" });
  const unrouted = server.logs.find((record) => record.requestId === "rest-404");
  assert.equal(unrouted?.procedure, "/v1/nowhere");
  assert.equal(unrouted?.status, 404);
});

test("a cut upload does not hold the connection: an oversize body announced is refused without reading it all", async () => {
  const socket = net.connect(server.port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write("POST /v1/orders HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{");
  const answer = await new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
      if (text.includes("\r\n\r\n")) resolve(text);
    });
  });
  assert.match(answer, /^HTTP\/1\.1 429 /);
  socket.destroy();
});

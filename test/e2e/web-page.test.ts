import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { startTestServer, type TestServer } from "../support/server.js";

/** A raw HTTP/1.1 request: fetch would normalise paths like /../, which is what we want to send. */
function rawRequest(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${baseUrl}/`, { method: options.method ?? "GET", path, headers: options.headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

function http2Request(baseUrl: string, path: string, method: string): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on("error", reject);
    const stream = session.request({ ":path": path, ":method": method });
    let headers: http2.IncomingHttpHeaders = {};
    let body = "";
    stream.setEncoding("utf8");
    stream.on("response", (received) => (headers = received));
    stream.on("data", (chunk: string) => (body += chunk));
    stream.on("end", () => {
      session.close();
      resolve({ headers, body });
    });
    stream.on("error", reject);
    stream.end();
  });
}

describe("the web page's files", () => {
  let server: TestServer;
  let assets: string[];

  before(async () => {
    server = await startTestServer();
    const index = await rawRequest(server.baseUrl, "/");
    assets = [...index.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map(
      ([, path]) => path ?? assert.fail("the pattern captures a path"),
    );
  });
  after(() => server.shutdown());

  test("/ is the page, revalidated on every load, with security headers", async () => {
    const response = await rawRequest(server.baseUrl, "/?protocol=grpc-web");
    assert.equal(response.status, 200);
    assert.equal(response.headers["content-type"], "text/html;charset=utf-8");
    assert.equal(response.headers["cache-control"], "no-cache");
    assert.match(response.body, /<title>One port, every client<\/title>/);
    const csp = String(response.headers["content-security-policy"]);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.equal(response.headers["x-content-type-options"], "nosniff");
    assert.equal(response.headers["referrer-policy"], "no-referrer");
    assert.equal(response.headers["x-frame-options"], "DENY");
  });

  test("hashed assets are cached for a year with the right content types", async () => {
    assert.ok(assets.some((path) => path.endsWith(".js")) && assets.some((path) => path.endsWith(".css")), `assets: ${assets.join(", ")}`);
    for (const path of assets) {
      const response = await rawRequest(server.baseUrl, path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers["cache-control"], "public, max-age=31536000, immutable", path);
      assert.equal(response.headers["content-type"], path.endsWith(".js") ? "text/javascript" : "text/css", path);
      assert.equal(response.headers["x-content-type-options"], "nosniff");
    }
    const icon = await rawRequest(server.baseUrl, "/favicon.svg");
    assert.equal(icon.headers["content-type"], "image/svg+xml");
    assert.equal(icon.headers["cache-control"], "no-cache");
  });

  test("HEAD answers headers only, and an unchanged page revalidates with 304", async () => {
    const head = await rawRequest(server.baseUrl, "/", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.ok(Number(head.headers["content-length"]) > 0);
    const etag = head.headers.etag;
    assert.ok(etag);
    const again = await rawRequest(server.baseUrl, "/", { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
  });

  test("unknown paths, other methods and escapes from the folder get a plain 404", async () => {
    const paths = [
      "/nope",
      "/index",
      "/assets/",
      "/assets/nope.js",
      "/../package.json",
      "/%2e%2e/package.json",
      "/..%2fpackage.json",
      "/assets/%2e%2e/%2e%2e/package.json",
      "/calculator.v1.CalculatorService/Nope",
    ];
    for (const path of paths) {
      const response = await rawRequest(server.baseUrl, path);
      assert.equal(response.status, 404, path);
      assert.equal(response.headers["content-type"], "text/plain; charset=utf-8", path);
      assert.equal(response.body, "Not Found\n", path);
    }
    for (const method of ["POST", "PUT", "DELETE"]) {
      const response = await rawRequest(server.baseUrl, "/", { method });
      assert.equal(response.status, 404, method);
      assert.equal(response.body, "Not Found\n");
    }
  });

  test("over HTTP/2 too", async () => {
    const page = await http2Request(server.baseUrl, "/", "GET");
    assert.equal(page.headers[":status"], 200);
    assert.equal(page.headers["content-type"], "text/html;charset=utf-8");
    assert.match(page.body, /<title>/);
    const head = await http2Request(server.baseUrl, "/", "HEAD");
    assert.equal(head.headers[":status"], 200);
    assert.equal(head.body, "");
    const missing = await http2Request(server.baseUrl, "/nope", "GET");
    assert.equal(missing.headers[":status"], 404);
  });

  test("RPC responses do not get the page's headers", async () => {
    const response = await rawRequest(server.baseUrl, "/calculator.v1.CalculatorService/SquareRoot", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"number": 9}',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { result: 3 });
    assert.equal(response.headers["content-security-policy"], undefined);
    assert.equal(response.headers["x-frame-options"], undefined);
    assert.equal(response.headers["access-control-allow-origin"], undefined);
  });

  test("without ALLOWED_ORIGINS no CORS header is sent, so browsers refuse other origins", async () => {
    const preflight = await rawRequest(server.baseUrl, "/calculator.v1.CalculatorService/SquareRoot", {
      method: "OPTIONS",
      headers: {
        origin: "http://elsewhere.test",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    assert.equal(preflight.headers["access-control-allow-origin"], undefined);
    assert.equal(preflight.headers["access-control-allow-methods"], undefined);
  });
});

describe("CORS with ALLOWED_ORIGINS", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ ALLOWED_ORIGINS: "http://app.test:3000, https://other.test" });
  });
  after(() => server.shutdown());

  test("a preflight from an allowed origin gets the headers connect-web needs", async () => {
    const preflight = await rawRequest(server.baseUrl, "/greeter.v1.GreeterService/LotsOfReplies", {
      method: "OPTIONS",
      headers: {
        origin: "http://app.test:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version,x-grpc-web,x-user-agent",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers["access-control-allow-origin"], "http://app.test:3000");
    // PATCH and DELETE for the REST routes (docs/rest.md).
    assert.deepEqual(preflight.headers["access-control-allow-methods"]?.split(","), ["POST", "GET", "PATCH", "DELETE"]);
    const allowed = preflight.headers["access-control-allow-headers"]?.split(",") ?? [];
    for (const header of ["Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms", "X-Grpc-Web", "X-User-Agent", "Grpc-Timeout"]) {
      assert.ok(
        allowed.some((name) => name.toLowerCase() === header.toLowerCase()),
        `${header} in ${allowed.join(",")}`,
      );
    }
    assert.ok(Number(preflight.headers["access-control-max-age"]) > 0);
  });

  test("an allowed origin may read the answer and the gRPC-Web status; another origin may not", async () => {
    const call = (origin: string) =>
      rawRequest(server.baseUrl, "/calculator.v1.CalculatorService/SquareRoot", {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: '{"number": 16}',
      });
    const allowed = await call("https://other.test");
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers["access-control-allow-origin"], "https://other.test");
    assert.match(allowed.headers["access-control-expose-headers"] ?? "", /Grpc-Status/i);
    assert.match(allowed.headers.vary ?? "", /Origin/);
    const refused = await call("http://evil.test");
    assert.equal(refused.headers["access-control-allow-origin"], undefined);
  });
});

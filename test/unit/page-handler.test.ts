import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, test } from "node:test";
import { createLogger } from "../../server/logger.js";
import { notFound } from "../../server/transport/grpc-answers.js";
import { contentSecurityPolicy, createPageHandler, docsContentSecurityPolicy } from "../../server/web/static.js";

/** Serves `handler` on a free port and returns its base URL. */
async function serve(handler: http.RequestListener): Promise<{ url: string; close(): void }> {
  const server = http.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ logLevel: "info", logFormat: "json" }, sink) };
}

describe("the page handler", () => {
  const dir = mkdtempSync(join(tmpdir(), "page-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("serves exactly the files of the folder it was given", async () => {
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(dir, "assets", "app-1a2b3c.js"), "export {};");
    writeFileSync(join(dir, ".env"), "SECRET=1");
    const { logger } = memoryLogger();
    const server = await serve(createPageHandler({ logger, otherwise: notFound, dir }));
    try {
      const page = await fetch(`${server.url}/`);
      assert.equal(page.status, 200);
      assert.equal(await page.text(), "<!doctype html><title>t</title>");
      const script = await fetch(`${server.url}/assets/app-1a2b3c.js`);
      assert.equal(script.headers.get("content-type"), "text/javascript");
      assert.equal(script.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.equal((await fetch(`${server.url}/.env`)).status, 404, "dotfiles are never served");
      // A file added after start is not served: the set of files is fixed.
      writeFileSync(join(dir, "later.html"), "late");
      assert.equal((await fetch(`${server.url}/later.html`)).status, 404);
    } finally {
      server.close();
    }
  });

  test("serves the API reference at /docs, whose policy alone allows data: images", async () => {
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(dir, "docs.html"), "<!doctype html><title>docs</title>");
    const { logger } = memoryLogger();
    const server = await serve(createPageHandler({ logger, otherwise: notFound, dir }));
    try {
      for (const path of ["/docs", "/docs?tag=x", "/docs.html"]) {
        const docs = await fetch(`${server.url}${path}`);
        assert.equal(await docs.text(), "<!doctype html><title>docs</title>", path);
        assert.equal(docs.headers.get("content-security-policy"), docsContentSecurityPolicy, path);
      }
      assert.equal(docsContentSecurityPolicy, contentSecurityPolicy.replace("img-src 'self'", "img-src 'self' data:"));
      assert.equal((await fetch(`${server.url}/`)).headers.get("content-security-policy"), contentSecurityPolicy);
      assert.equal((await fetch(`${server.url}/docs/`)).status, 404, "one address per page");
    } finally {
      server.close();
    }
  });

  test("without a built page it says so once and answers 404", async () => {
    const { lines, logger } = memoryLogger();
    const server = await serve(createPageHandler({ logger, otherwise: notFound, dir: join(dir, "missing") }));
    try {
      const response = await fetch(`${server.url}/`);
      assert.equal(response.status, 404);
      assert.equal(await response.text(), "Not Found\n");
      assert.equal(lines.length, 1);
      assert.match(String(lines[0]?.msg), /web page not built.*npm run build/);
    } finally {
      server.close();
    }
  });
});

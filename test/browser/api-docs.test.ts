import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { docsContentSecurityPolicy } from "../../server/web/static.js";
import { browserUnavailable, launchBrowser, screenshot, waitForText, watchForPageProblems } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";

const skip = browserUnavailable();

describeUnless(skip, "API reference (/docs, Swagger UI) in a real browser", () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let problems: ReturnType<typeof watchForPageProblems>;

  before(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    problems = watchForPageProblems(page);
  });

  after(async () => {
    await browser?.close();
    await server?.shutdown();
  });

  test("shows every operation of /openapi.json, inside the page's Content-Security-Policy", async () => {
    const response = await page.goto(`${server.baseUrl}/docs`);
    assert.equal(response?.headers()["content-security-policy"], docsContentSecurityPolicy);
    const described = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(described.paths).reduce((count, item) => count + Object.keys(item).length, 0);
    await page
      .locator(".opblock")
      .nth(operations - 1)
      .waitFor();
    assert.equal(await page.locator(".opblock").count(), operations);
    await waitForText(page.locator(".info .title"), "connect-polyglot-server");
    await screenshot(page, "api-docs");
    problems.assertNone();
  });

  test('"Try it out" calls the server, a Connect endpoint and a REST route, and shows its answers', async () => {
    const operation = page.locator(".opblock.opblock-post", { has: page.locator('[data-path="/greeter.v1.GreeterService/SayHello"]') });
    await operation.locator(".opblock-summary-control").click();
    await operation.getByRole("button", { name: "Try it out" }).click();
    await operation.locator("textarea.body-param__text").fill('{"name": "Ada"}');
    await operation.getByRole("button", { name: "Execute" }).click();
    await waitForText(operation.locator(".live-responses-table"), "Hello, Ada!");
    const logged = await server.waitForCallLog("/greeter.v1.GreeterService/SayHello");
    assert.deepEqual([logged.protocol, logged.method, logged.code], ["connect", "POST", "ok"]);
    await screenshot(page, "api-docs-try-it", ".opblock.is-open");
    await operation.locator(".opblock-summary-control").click();

    // A REST route: its query parameter from the form.
    const squareRoot = page.locator(".opblock.opblock-get", { has: page.locator('[data-path="/v1/calculator:squareRoot"]') });
    await squareRoot.locator(".opblock-summary-control").click();
    await squareRoot.getByRole("button", { name: "Try it out" }).click();
    await squareRoot.locator('input[placeholder="number"]').fill("2");
    await squareRoot.getByRole("button", { name: "Execute" }).click();
    await waitForText(squareRoot.locator(".live-responses-table"), `"result": ${Math.SQRT2}`);
    const rest = await server.waitForCallLog("/calculator.v1.CalculatorService/SquareRoot");
    assert.deepEqual([rest.protocol, rest.method, rest.code], ["rest", "GET", "ok"]);
    problems.assertNone();
  });
});

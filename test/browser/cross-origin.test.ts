import assert from "node:assert/strict";
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import sirv from "sirv";
import { builtPageDir } from "../../server/web/static.js";
import { browserUnavailable, chooseProtocol, launchBrowser, pageProtocols, screenshot, waitForText } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";

const skip = browserUnavailable();

/**
 * The same built page, hosted by a second, unrelated web server on another
 * origin, calling the API server named in ?api=. Only CORS decides whether
 * the browser lets it.
 */
describeUnless(skip, "web page on another origin", () => {
  let pageHost: http.Server;
  let pageOrigin: string;
  let allowing: TestServer;
  let refusing: TestServer;
  let browser: Browser;

  before(async () => {
    pageHost = http.createServer(sirv(builtPageDir));
    pageHost.listen(0, "127.0.0.1");
    await once(pageHost, "listening");
    // "localhost" and "127.0.0.1" are different origins, and so are ports.
    pageOrigin = `http://localhost:${(pageHost.address() as AddressInfo).port}`;
    allowing = await startTestServer({ ALLOWED_ORIGINS: pageOrigin });
    refusing = await startTestServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await allowing?.shutdown();
    await refusing?.shutdown();
    pageHost?.close();
  });

  const open = async (api: TestServer): Promise<Page> => {
    const page = await browser.newPage();
    await page.goto(`${pageOrigin}/?api=${encodeURIComponent(api.baseUrl)}`);
    await waitForText(page.locator("footer"), `API: ${api.baseUrl}`);
    return page;
  };

  const squareRootOf16 = async (page: Page) => {
    const calculator = page.locator("#calculator");
    await calculator.getByLabel("First number").fill("16");
    await calculator.getByLabel("Operation").selectOption({ label: "√ square root" });
    await calculator.getByRole("button", { name: "Calculate" }).click();
  };

  test("with ALLOWED_ORIGINS listing the page's origin, every protocol works", async () => {
    const page = await open(allowing);
    for (const protocol of pageProtocols) {
      await chooseProtocol(page, protocol.label);
      await squareRootOf16(page);
      await waitForText(page.locator("#calculator output"), "√16 = 4");

      // A streamed call needs the exposed gRPC-Web status headers too.
      const greeter = page.locator("#greeter");
      await greeter.getByLabel("Name", { exact: true }).fill("Origin");
      await greeter.getByLabel("Pause between greetings").selectOption({ label: "none" });
      await greeter.getByRole("button", { name: "Stream greetings" }).click();
      await waitForText(greeter.locator("#greet-status"), "Done: 7 greetings");

      // And a server error still reaches the page with its code: 11 emoji,
      // which only the server counts (the contract's rule cannot segment graphemes).
      await greeter.getByLabel("Name", { exact: true }).fill("👍🏽".repeat(11));
      await greeter.getByRole("button", { name: "Say hello", exact: true }).click();
      await waitForText(greeter.getByRole("alert"), /INVALID_ARGUMENT .*more than 10 characters, got 11/);
      await greeter.getByLabel("Name", { exact: true }).fill("Ada");
      await greeter.getByRole("button", { name: "Say hello", exact: true }).click();
      await waitForText(greeter.locator("output"), "Hello, Ada!");
    }
    assert.ok(allowing.callLogs("/calculator.v1.CalculatorService/SquareRoot").length >= 3);
    await page.close();
  });

  test("without ALLOWED_ORIGINS the browser refuses the call and the page says so", async () => {
    const page = await open(refusing);
    const corsErrors: string[] = [];
    page.on("console", (message) => {
      if (/CORS/.test(message.text())) corsErrors.push(message.text());
    });
    await squareRootOf16(page);
    await waitForText(page.locator("#calculator").getByRole("alert"), /UNKNOWN .*does not allow calls from this page's origin \(CORS\)/);
    assert.equal(await page.locator("#calculator output").textContent(), "");
    assert.ok(corsErrors.length > 0, "the browser reports the CORS refusal");
    await screenshot(page, "cross-origin-refused", "#calculator");
    await page.close();
  });
});

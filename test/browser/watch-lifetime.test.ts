import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Browser, Page } from "playwright-core";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { browserUnavailable, launchBrowser, waitForText, waitUntil, watchForPageProblems } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";

const watchProcedure = "/order.v1.OrderService/WatchOrders";

describeUnless(browserUnavailable(), "web page: a watch ended for its lifetime (MAX_WATCH_MS)", () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let problems: ReturnType<typeof watchForPageProblems>;

  before(async () => {
    server = await startTestServer({ MAX_WATCH_MS: "1000" });
    browser = await launchBrowser();
    page = await browser.newPage();
    problems = watchForPageProblems(page);
    await page.goto(`${server.baseUrl}/`);
  });

  after(async () => {
    await browser?.close();
    await server?.shutdown();
  });

  test("the page reopens the watch at once, stays Live throughout, and shows changes made after each reopening", async () => {
    const connection = page.locator("#orders-connection");
    await waitForText(connection, "Live");
    // Every wording the connection line shows from now on, read as often as the page can be asked.
    const seen = new Set<string>();
    const opened = server.callLogs(watchProcedure).length;
    await waitUntil(
      async () => {
        seen.add((await page.locator("#orders-connection-text").textContent()) ?? "");
        return server.callLogs(watchProcedure).length >= opened + 3;
      },
      "three watches ended for their lifetime",
      10_000,
    );
    const ended = server.callLogs(watchProcedure).slice(opened);
    assert.ok(
      ended.every((record) => record.code === "unavailable"),
      JSON.stringify(ended.map((record) => record.code)),
    );

    const orders = createClient(OrderService, createGrpcTransport({ baseUrl: server.baseUrl }));
    const name = "Made after the watch was reopened";
    await orders.createOrder({ name });
    await page.locator("#order-rows tr", { has: page.getByRole("cell", { name, exact: true }) }).waitFor({ timeout: 5_000 });
    assert.deepEqual([...seen], ["Live"], "the page never said the connection was lost");
    problems.assertNone();
  });
});

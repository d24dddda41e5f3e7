import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Browser, Page } from "playwright-core";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { browserUnavailable, launchBrowser, screenshot, waitForText, waitUntil, watchForPageProblems } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";

const skip = browserUnavailable();

/** Relative luminance of a computed CSS rgb() colour, 0 (black) to 1 (white). */
function luminance(color: string): number {
  const [r, g, b] = (color.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
  return (0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)) / 255;
}

/** Waits for the panels that load by themselves to finish (these tests look at the layout, not the data). */
async function settled(page: Page): Promise<void> {
  await waitUntil(async () => !/Streaming/.test((await page.locator("#movie-status").textContent()) ?? ""), "the movie listing");
  await waitUntil(async () => !/Connecting/.test((await page.locator("#orders-connection").textContent()) ?? ""), "the orders stream");
}

describeUnless(skip, "web page: layout, colour schemes and keyboard use", () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.shutdown();
  });

  test("on a laptop, light scheme", async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, colorScheme: "light", reducedMotion: "reduce" });
    const problems = watchForPageProblems(page);
    await page.goto(`${server.baseUrl}/`);
    await settled(page);
    assert.ok(luminance(await page.evaluate<string>("getComputedStyle(document.body).backgroundColor")) > 0.8);
    // Calculator and Greeter side by side.
    const calculator = await page.locator("#calculator").boundingBox();
    const greeter = await page.locator("#greeter").boundingBox();
    assert.ok(calculator && greeter && Math.abs(calculator.y - greeter.y) < 1 && greeter.x > calculator.x + calculator.width);
    await screenshot(page, "page-laptop-light");
    problems.assertNone();
    await page.close();
  });

  test("on a phone, dark scheme: one column, nothing wider than the screen", async () => {
    // An order fills the table, which is wider than a phone and scrolls in its own box.
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const { order } = await orders.createOrder({ name: "Phone-sized order" });
    const screenWidth = 390;
    const page = await browser.newPage({
      viewport: { width: screenWidth, height: 844 },
      colorScheme: "dark",
      isMobile: true,
      hasTouch: true,
      reducedMotion: "reduce",
    });
    const problems = watchForPageProblems(page);
    await page.goto(`${server.baseUrl}/`);
    await settled(page);
    await page.locator("#order-rows tr").first().waitFor();
    assert.ok(luminance(await page.evaluate<string>("getComputedStyle(document.body).backgroundColor")) < 0.2);
    // Against the screen's width, not window.innerWidth: a mobile browser widens its
    // viewport to content that overflows (and shrinks the page to fit), so innerWidth
    // grows with the overflow and would hide it.
    const documentWidth = await page.evaluate<number>("document.documentElement.scrollWidth");
    assert.ok(documentWidth <= screenWidth, `the page is ${documentWidth}px wide on a ${screenWidth}px screen, so it scrolls sideways`);
    // The table does not fit, and scrolls inside its own box instead.
    const table = await page.evaluate<number[]>(
      "(wrap => [wrap.scrollWidth, wrap.clientWidth])(document.querySelector('#orders .table-wrap'))",
    );
    assert.ok((table[0] ?? 0) > (table[1] ?? 0), "the orders table scrolls in its box");
    const calculator = await page.locator("#calculator").boundingBox();
    const greeter = await page.locator("#greeter").boundingBox();
    assert.ok(calculator && greeter && greeter.y > calculator.y + calculator.height, "panels stack");
    await screenshot(page, "page-phone-dark");
    problems.assertNone();
    await page.close();
    if (order) await orders.deleteOrder({ id: order.id });
  });

  test("the theme can be chosen and is remembered", async () => {
    const page = await browser.newPage({ colorScheme: "light" });
    await page.goto(`${server.baseUrl}/`);
    const toggle = page.getByRole("button", { name: /^Theme:/ });
    assert.equal(await toggle.textContent(), "Theme: auto");
    await toggle.click();
    await toggle.click();
    assert.equal(await toggle.textContent(), "Theme: dark");
    assert.ok(luminance(await page.evaluate<string>("getComputedStyle(document.body).backgroundColor")) < 0.2);
    await page.reload();
    assert.equal(await page.getByRole("button", { name: /^Theme:/ }).textContent(), "Theme: dark");
    await page.close();
  });

  test("usable with the keyboard alone, with a visible focus", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.baseUrl}/`);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate<string>("document.activeElement?.textContent"), "Skip to the services");
    // Page code is written as strings: it runs in the browser, not in this Node program.
    const outline = await page.evaluate<string>(
      "(({ outlineStyle, outlineWidth }) => [outlineStyle, outlineWidth].join(' '))(getComputedStyle(document.activeElement))",
    );
    assert.match(outline, /^solid [1-9]/, "the focused element shows an outline");
    await page.keyboard.press("Enter");

    // Into the Calculator: first number, operation, calculate.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate<string>("document.activeElement?.id"), "calc-a");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("81");
    await page.keyboard.press("Enter");
    await waitForText(page.locator("#calc-result"), "√81 = 9");

    // The protocol switch is one group of radios moved through with the arrow keys.
    await page.getByRole("radio", { name: "Connect JSON" }).focus();
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.getByRole("radio", { name: "Connect binary" }).isChecked(), true);
    const radioOutline = await page.evaluate<string>(
      "getComputedStyle(document.querySelector('#protocol-switch input:checked + span')).outlineStyle",
    );
    assert.equal(radioOutline, "solid");

    // Greeter: type a name and press Enter.
    await page.getByLabel("Name", { exact: true }).focus();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("Kay");
    await page.keyboard.press("Enter");
    await waitForText(page.locator("#greet-result"), "Hello, Kay!");
    await page.close();
  });
});

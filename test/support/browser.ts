import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";

/** Debian's Chromium (apt-get install chromium); the tests never download a browser. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where screenshots go, for a reviewer to look at (ignored by git). */
export const screenshotDir = resolve("test-output");

/**
 * Why the browser tests cannot run here, or undefined when they can. On CI a
 * missing browser is a failure, not a skip.
 */
export function browserUnavailable(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  const message = `Chromium not found at ${chromiumPath}: install it with "apt-get install chromium" (.ci/run does), or set CHROMIUM_PATH`;
  if (process.env.CI === "true") throw new Error(message);
  return message;
}

/**
 * Launches headless Chromium. Playwright gives every launch a fresh, temporary
 * --user-data-dir; the flags keep the browser from reaching out to the network.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Problems a person would not see but a page must not have: uncaught errors and blocked resources. */
export function watchForPageProblems(page: Page): { assertNone(): void } {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  return { assertNone: () => assert.deepEqual(problems, []) };
}

/** Saves a screenshot of one element (a panel) or the whole page into test-output/. */
export async function screenshot(page: Page, name: string, selector?: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = resolve(screenshotDir, `${name}.png`);
  if (selector === undefined) await page.screenshot({ path, fullPage: true });
  else await page.locator(selector).screenshot({ path });
}

/** Waits until the element's visible text matches, and returns it; fails with what was shown instead. */
export async function waitForText(locator: Locator, expected: string | RegExp, timeoutMs = 10_000): Promise<string> {
  const matches = (text: string) => (typeof expected === "string" ? text.includes(expected) : expected.test(text));
  const deadline = Date.now() + timeoutMs;
  let text = "";
  for (;;) {
    const [first] = await locator.allInnerTexts();
    text = first ?? "(element absent)";
    if (matches(text)) return text;
    if (Date.now() > deadline) assert.fail(`expected ${String(expected)} on the page, saw: ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until `condition` holds, polling; fails with `what` after the timeout. */
export async function waitUntil(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The protocol switch's settings, and what the server should log for each. */
export const pageProtocols = [
  { label: "Connect JSON", slug: "connect-json", serverProtocol: "connect", usesGet: true },
  { label: "Connect binary", slug: "connect-binary", serverProtocol: "connect", usesGet: true },
  { label: "gRPC-Web", slug: "grpc-web", serverProtocol: "grpc-web", usesGet: false },
] as const;

/** Picks a protocol with the switch at the top of the page, as a person would. */
export async function chooseProtocol(page: Page, label: string): Promise<void> {
  const radio = page.getByRole("radio", { name: label, exact: true });
  await radio.check();
  assert.equal(await radio.isChecked(), true);
}

import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

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

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  browserUnavailable,
  chooseProtocol,
  launchBrowser,
  pageProtocols,
  screenshot,
  waitForText,
  waitUntil,
  watchForPageProblems,
} from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";

const skip = browserUnavailable();

describeUnless(skip, "web page: Calculator and Greeter in a real browser", () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let problems: ReturnType<typeof watchForPageProblems>;

  before(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    problems = watchForPageProblems(page);
    await page.goto(`${server.baseUrl}/`);
  });

  after(async () => {
    await browser?.close();
    await server?.shutdown();
  });

  for (const protocol of pageProtocols) {
    describe(protocol.label, () => {
      before(() => chooseProtocol(page, protocol.label));

      test("square root, and errors shown inline with their code", async () => {
        const calculator = page.locator("#calculator");
        const result = calculator.locator("output");
        const error = calculator.getByRole("alert");

        const squareRoots = server.callLogs("/calculator.v1.CalculatorService/SquareRoot").length;
        await calculator.getByLabel("First number").fill("2");
        await calculator.getByLabel("Operation").selectOption({ label: "√ square root" });
        assert.equal(await calculator.getByLabel("Second number").isVisible(), false, "a square root has one operand");
        await calculator.getByRole("button", { name: "Calculate" }).click();
        await waitForText(result, `√2 = ${Math.SQRT2}`);
        assert.equal(await error.isVisible(), false);

        const logged = await server.waitForCallLog("/calculator.v1.CalculatorService/SquareRoot", squareRoots + 1);
        assert.equal(logged.protocol, protocol.serverProtocol);
        assert.equal(logged.method, protocol.usesGet ? "GET" : "POST");
        // The call log and the status line at the top tell the developer what happened.
        await waitForText(
          page.locator("#call-log tr", { hasText: "CalculatorService/SquareRoot" }).first(),
          new RegExp(`${protocol.label}\\s+${protocol.usesGet ? "GET" : "POST"}\\s+ok\\s+[\\d.]+ ms`),
        );
        await waitForText(
          page.locator("#last-call"),
          new RegExp(`ok CalculatorService/SquareRoot · ${protocol.label} · ${protocol.usesGet ? "GET" : "POST"} · [\\d.]+ ms`),
        );

        // The contract's rules, checked in the page: the problem shows next to its number, and nothing is sent.
        const firstProblem = calculator.locator("#calc-a-problem");
        const secondProblem = calculator.locator("#calc-b-problem");
        // The call log shows the newest call first: its newest Calculator call stays the same while nothing is sent.
        const calculatorCalls = page.locator("#call-log tr", { hasText: "CalculatorService" });
        const newestCall = await calculatorCalls.first().textContent();
        await calculator.getByLabel("First number").fill("-4");
        await calculator.getByRole("button", { name: "Calculate" }).click();
        await waitForText(firstProblem, /cannot take the square root of a negative number: number is -4/);
        assert.equal(await result.textContent(), "", "no stale result next to a problem");
        assert.equal(await calculator.getByLabel("First number").getAttribute("aria-invalid"), "true");

        await calculator.getByLabel("First number").fill("1");
        await calculator.getByLabel("Operation").selectOption({ label: "÷ divide" });
        await calculator.getByLabel("Second number").fill("0");
        await calculator.getByRole("button", { name: "Calculate" }).click();
        await waitForText(secondProblem, /cannot divide by zero: b is 0/);
        assert.equal(await firstProblem.isVisible(), false, "the first number's problem went away once it was fixed");
        assert.equal(await calculatorCalls.first().textContent(), newestCall, "the page sent nothing the rules refuse");

        await calculator.getByLabel("Second number").fill("8");
        await calculator.getByRole("button", { name: "Calculate" }).click();
        await waitForText(result, "1 ÷ 8 = 0.125");
        assert.equal(await error.isVisible(), false, "the error goes away once a call succeeds");
        assert.equal(await secondProblem.isVisible(), false, "and so does the problem");

        await calculator.getByLabel("Second number").fill("0");
        await calculator.getByRole("button", { name: "Calculate" }).click();
        await waitForText(secondProblem, /divide by zero/);
        await screenshot(page, `calculator-${protocol.slug}`, "#calculator");
      });

      test("greet, and the 10-character rule of the contract, in the page and on the server", async () => {
        const greeter = page.locator("#greeter");
        const name = greeter.getByLabel("Name", { exact: true });
        const problem = greeter.locator("#greet-name-problem");
        await name.fill("Ada");
        await greeter.getByRole("button", { name: "Say hello", exact: true }).click();
        await waitForText(greeter.locator("output"), "Hello, Ada!");
        await greeter.getByRole("button", { name: "Say hello again" }).click();
        await waitForText(greeter.locator("output"), "Hello again, Ada!");

        // The page checks the request with protovalidate on the generated
        // schema, and says what is wrong next to the field: nothing is sent.
        const path = "/greeter.v1.GreeterService/SayHello";
        const calls = server.callLogs(path).length;
        await name.fill("Bartholomew!");
        await greeter.getByRole("button", { name: "Say hello", exact: true }).click();
        await waitForText(problem, "name cannot be more than 10 characters, got 12");
        assert.equal(await name.getAttribute("aria-invalid"), "true");
        assert.equal(await greeter.locator("output").textContent(), "");
        assert.equal(await greeter.getByRole("alert").isVisible(), false);
        // A call the page did send (below) is logged within milliseconds: none was for this one.
        await new Promise((done) => setTimeout(done, 300));
        assert.equal(server.callLogs(path).length, calls, "the page sent a request it had refused");

        // Past the page's check (a request of its own), the server refuses the same name with the same words.
        const refused = await page.evaluate(async (url) => {
          const response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"name":"Bartholomew!"}',
          });
          const body = (await response.json()) as {
            code: string;
            message: string;
            details: Array<{ type: string; value: string; debug: unknown }>;
          };
          return { status: response.status, body };
        }, path);
        assert.equal(refused.status, 400);
        assert.deepEqual(refused.body, {
          code: "invalid_argument",
          message: "name cannot be more than 10 characters, got 12",
          details: [
            {
              type: "google.rpc.BadRequest",
              value: refused.body.details[0]?.value,
              debug: {
                fieldViolations: [{ field: "name", description: "name cannot be more than 10 characters, got 12", reason: "MAX_LENGTH" }],
              },
            },
          ],
        });
        assert.equal(server.callLogs(path).length, calls + 1);

        // A good name clears the problem.
        await name.fill("Ada");
        await greeter.getByRole("button", { name: "Say hello", exact: true }).click();
        await waitForText(greeter.locator("output"), "Hello, Ada!");
        assert.equal(await problem.isVisible(), false);
        assert.equal(await name.getAttribute("aria-invalid"), null);
      });

      test("streamed greetings arrive one by one", async () => {
        const greeter = page.locator("#greeter");
        const items = greeter.getByRole("list", { name: "Streamed greetings" }).getByRole("listitem");
        await greeter.getByLabel("Name", { exact: true }).fill("なんしー");
        await greeter.getByLabel("Pause between greetings").selectOption({ label: "0.25 s" });
        await greeter.getByRole("button", { name: "Stream greetings" }).click();

        // Sample what a person would see while the stream runs.
        const seen = new Set<number>();
        await waitUntil(async () => {
          seen.add(await items.count());
          return /^Done/.test((await greeter.locator("#greet-status").textContent()) ?? "");
        }, "the stream to finish");
        const counts = [...seen].filter((count) => count > 0 && count < 7);
        assert.ok(counts.length >= 3, `expected to see the list grow step by step, saw counts ${[...seen].join(", ")}`);

        assert.equal(await items.count(), 7);
        await waitForText(greeter.locator("#greet-status"), "Done: 7 greetings");
        // As a person sees them: language and greeting in cells of their own, the language upper-cased by the page's style.
        const shown = await items.allInnerTexts();
        assert.match(shown[0] ?? "", /en\s+Hello, なんしー!/i);
        assert.match(shown[4] ?? "", /ja\s+こんにちは、なんしーさん！/i);
        // Each greeting shows when it arrived; the server paused 250 ms between them.
        const arrivals = (await greeter.locator(".greetings .at").allInnerTexts()).map(toMs);
        for (const [i, at] of arrivals.entries()) {
          const before = arrivals[i - 1];
          if (before === undefined) continue; // the first greeting has none before it
          assert.ok(at - before >= 150, `greeting ${i + 1} came ${at - before} ms after the one before`);
        }
        await screenshot(page, `greeter-${protocol.slug}`, "#greeter");
      });

      test("cancel really ends the stream", async () => {
        const procedure = "/greeter.v1.GreeterService/LotsOfReplies";
        const before = server.callLogs(procedure).length;
        const greeter = page.locator("#greeter");
        const items = greeter.getByRole("list", { name: "Streamed greetings" }).getByRole("listitem");
        await greeter.getByLabel("Name", { exact: true }).fill("Grace");
        await greeter.getByLabel("Pause between greetings").selectOption({ label: "1 s" });
        await greeter.getByRole("button", { name: "Stream greetings" }).click();
        await waitUntil(async () => (await items.count()) >= 2, "two greetings");
        await greeter.getByRole("button", { name: "Cancel" }).click();
        await waitForText(greeter.locator("#greet-status"), /Cancelled after [23] greetings/);
        const shown = await items.count();

        // The server saw the call end as cancelled, not run to its end.
        const logged = await server.waitForCallLog(procedure, before + 1);
        assert.equal(logged.code, "canceled");
        assert.equal(logged.protocol, protocol.serverProtocol);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        assert.equal(await items.count(), shown, "no greeting arrives after cancel");
        assert.equal(await greeter.getByRole("button", { name: "Cancel" }).isDisabled(), true);
      });
    });
  }

  test("the call log shows every call with protocol, HTTP method, status and duration", async () => {
    const rows = page.locator("#call-log tr");
    assert.ok((await rows.count()) > 10);
    const texts = await rows.allInnerTexts();
    assert.ok(
      // A call that did not end well shows its status (the page's own checks keep refused requests from being sent at all).
      texts.some((row) => /GreeterService\/LotsOfReplies\s+gRPC-Web\s+POST\s+CANCELED · \d+ messages?\s+[\d.]+ s/.test(row)),
      texts.join("\n"),
    );
    assert.ok(
      texts.some((row) => /CalculatorService\/Divide\s+Connect binary\s+GET\s+ok\s+[\d.]+ ms/.test(row)),
      texts.join("\n"),
    );
    assert.ok(
      texts.some((row) => /GreeterService\/LotsOfReplies\s+Connect JSON\s+POST\s+ok · 7 messages\s+[\d.]+ s/.test(row)),
      texts.join("\n"),
    );
    await screenshot(page, "call-log", "#call-log-card");
    problems.assertNone();
  });
});

function toMs(text: string): number {
  const match = /\+([\d.]+) (ms|s)/.exec(text);
  assert.ok(match, `not a time: ${text}`);
  return Number(match[1]) * (match[2] === "s" ? 1000 : 1);
}

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Browser, Page } from "playwright-core";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { accessOf } from "../../server/auth/access.js";
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
import { authEnv, mintToken } from "../support/tokens.js";

const skip = browserUnavailable();

/** What the page reads from and the server logs for them. */
const reads = [
  "/movie.v1.MovieService/ListMovies",
  "/movie.v1.MovieService/GetMovie",
  "/order.v1.OrderService/ListOrders",
  "/order.v1.OrderService/WatchOrders",
];

/** The header's sign-in status ("Not signed in", "Signed in as tester …"). */
const sessionStatus = (page: Page) => page.locator("#session-status");
const signInDialog = (page: Page) => page.getByRole("dialog", { name: "Sign in with a token" });

/** Opens the sign-in from the header and pastes `text` into it, as a person would. */
async function signInWith(page: Page, text: string): Promise<void> {
  await page.locator("#session").getByRole("button", { name: "Sign in", exact: true }).click();
  await pasteToken(page, text);
}

/** Pastes into the open sign-in dialog and submits it with Enter. */
async function pasteToken(page: Page, text: string): Promise<void> {
  const dialog = signInDialog(page);
  await dialog.waitFor();
  assert.equal(await page.evaluate<string>("document.activeElement?.id"), "sign-in-token", "the token field has the focus");
  await dialog.getByLabel("Bearer token").fill(text);
  await dialog.getByLabel("Bearer token").press("Enter");
}

/** Waits for the panels that load by themselves: the movie listing and the live orders. */
async function settled(page: Page, movies = "7 movies"): Promise<void> {
  await waitForText(page.locator("#movie-status"), movies);
  await waitForText(page.locator("#orders-connection"), "Live");
}

/** Adds a movie with the form in the Movies panel. */
async function addMovie(page: Page, title: string): Promise<void> {
  const movies = page.locator("#movies");
  await movies.getByLabel("Title", { exact: true }).fill(title);
  await movies.getByLabel("Director", { exact: true }).fill("Playwright");
  await movies.getByRole("button", { name: "Add movie" }).click();
}

/** Adds an order with the form in the Orders panel. */
async function addOrder(page: Page, name: string): Promise<void> {
  const orders = page.locator("#orders");
  await orders.getByLabel("New order").fill(name);
  await orders.getByRole("button", { name: "Add order" }).click();
}

/** The row of the page's call log for the latest call to `procedure` ("MovieService/CreateMovie"). */
const callLogRow = (page: Page, procedure: string) => page.locator("#call-log tr", { hasText: procedure }).first();

describe("the page's rule for which calls carry the token matches the server's access table", () => {
  // The page sends the token on methods its contract does not mark NO_SIDE_EFFECTS
  // (web/src/api.ts, changesData), where the server requires one ("write"
  // methods), and on reads of orders (answersPerCaller), which the server
  // answers with the token subject's own orders; on no other read.
  for (const service of [MovieService, OrderService, CalculatorService, GreeterService]) {
    test(service.typeName, () => {
      // Client and bidi streams cannot be called from a browser.
      const callable = service.methods.filter((method) => method.methodKind === "unary" || method.methodKind === "server_streaming");
      for (const method of callable) {
        const changes = method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
        assert.equal(changes, accessOf(method)?.kind === "write", `${method.name}`);
        const pageSendsToken = changes || service === OrderService;
        assert.equal(pageSendsToken, accessOf(method)?.kind === "write" || service === OrderService, `${method.name}`);
      }
    });
  }
});

describeUnless(skip, "web page with authentication on", () => {
  let server: TestServer;
  let browser: Browser;
  let fullToken: string;

  before(async () => {
    server = await startTestServer(authEnv);
    browser = await launchBrowser();
    fullToken = await mintToken({ scope: "movies:write orders:write" });
  });

  after(async () => {
    await browser?.close();
    await server?.shutdown();
  });

  /** A fresh tab with its own, empty sessionStorage. */
  const open = async (path = "/") => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    const problems = watchForPageProblems(page);
    await page.goto(`${server.baseUrl}${path}`);
    return { page, problems };
  };

  test("signed out: reads work without a token, a change prompts for one", async () => {
    const { page, problems } = await open();
    await settled(page);
    await waitForText(sessionStatus(page), "Not signed in");

    const created = server.callLogs("/movie.v1.MovieService/CreateMovie").length;
    await addMovie(page, "Not signed in");
    const alert = page.locator("#movie-create-error");
    await waitForText(alert, /^UNAUTHENTICATED Sign in to make changes: this server needs a token for them\. Sign in…/);
    // The server's own words say which scope the change needs.
    assert.match((await alert.textContent()) ?? "", /The server says: CreateMovie changes data: .*"movies:write"/);
    assert.equal((await server.waitForCallLog("/movie.v1.MovieService/CreateMovie", created + 1)).code, "unauthenticated");
    await waitForText(callLogRow(page, "MovieService/CreateMovie"), /UNAUTHENTICATED\s+.*none/);

    await addOrder(page, "Not signed in either");
    await waitForText(page.locator("#order-error"), /^UNAUTHENTICATED Sign in to make changes/);
    assert.equal(await page.locator("#order-rows tr").count(), 0);
    await screenshot(page, "auth-signed-out-prompt", "#movies");

    // The prompt's button opens the sign-in, saying why; Escape closes it and gives the focus back.
    const prompt = page.locator("#movie-create-error").getByRole("button", { name: "Sign in…" });
    await prompt.click();
    const dialog = signInDialog(page);
    await dialog.waitFor();
    await waitForText(dialog.locator("#sign-in-reason"), "Sign in to make changes: this server needs a token for them.");
    assert.equal(await page.evaluate<string>("document.activeElement?.id"), "sign-in-token");
    assert.match((await dialog.textContent()) ?? "", /sent only with calls that change data and with reads of your orders/);
    await screenshot(page, "auth-sign-in-dialog");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    assert.equal(await page.evaluate<string>("document.activeElement?.textContent"), "Sign in…");
    problems.assertNone();
    await page.close();
  });

  test("signed in with a pasted token: changes work over every protocol, and only they and order reads carry the token", async () => {
    const { page, problems } = await open();
    await settled(page);
    const logsBefore = server.logs.length;
    // Pasted as a whole header value, with the line break copying adds.
    await signInWith(page, `Bearer ${fullToken}\n`);
    await signInDialog(page).waitFor({ state: "hidden" });
    await waitForText(sessionStatus(page), /^Signed in as tester\s+movies:write orders:write · until \d/);
    assert.equal(await page.locator("#session").getByRole("button", { name: "Sign out" }).isVisible(), true);

    // Kept for this tab only: in sessionStorage, not in localStorage, not in the address.
    assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('auth-token')"), fullToken);
    assert.equal(await page.evaluate<string>("JSON.stringify(localStorage)").then((all) => all.includes(fullToken)), false);
    assert.equal(page.url().includes(fullToken), false);

    for (const protocol of pageProtocols) {
      await chooseProtocol(page, protocol.label);
      const title = `Signed in (${protocol.slug})`;
      await addMovie(page, title);
      await waitForText(page.locator("#movie-detail-title"), title);
      await page.locator("#movie-detail").getByRole("button", { name: "Delete movie" }).click();
      await waitUntil(async () => !(await page.locator("#movie-list .title").allInnerTexts()).includes(title), "the movie to go");

      const name = `Signed-in order (${protocol.slug})`;
      await addOrder(page, name);
      const row = page.locator("#order-rows tr", { hasText: name });
      await row.waitFor();
      await row.getByRole("button", { name: `Delete ${name}` }).click();
      await row.waitFor({ state: "detached" });
    }
    assert.equal(await page.locator("#movie-create-error").isVisible(), false);
    assert.equal(await page.locator("#order-error").isVisible(), false);
    await waitForText(callLogRow(page, "MovieService/CreateMovie"), /ok\s+.*sent$/);
    await waitForText(callLogRow(page, "MovieService/ListMovies"), /none$/);

    // The server saw the token on every change and every order read, and on nothing else.
    const calls = server.logs.slice(logsBefore).filter((record) => typeof record.procedure === "string");
    const changes = calls.filter((record) => /\/(Create|Update|Delete)\w+$/.test(String(record.procedure)));
    assert.equal(changes.length, 4 * pageProtocols.length);
    for (const change of changes) {
      assert.equal(change.code, "ok");
      assert.equal(change.principal, "tester", `${change.procedure} carried the token`);
    }
    const readCalls = calls.filter((record) => reads.includes(String(record.procedure)));
    assert.ok(readCalls.length >= pageProtocols.length, "the page read meanwhile");
    for (const read of readCalls) {
      // The watch opened before signing in is logged when it ends, after.
      if (read.procedure === "/order.v1.OrderService/WatchOrders") continue;
      if (String(read.procedure).startsWith("/order.v1.")) assert.equal(read.principal, "tester", `${read.procedure} carried the token`);
      else assert.equal(read.principal, undefined, `${read.procedure} went without the token`);
    }
    const watches = readCalls.filter((read) => read.procedure === "/order.v1.OrderService/WatchOrders");
    assert.ok(
      watches.some((watch) => watch.principal === "tester"),
      "the watch was opened again with the token",
    );

    // A reload keeps the sign-in (same tab); signing out forgets the token.
    await page.reload();
    await waitForText(sessionStatus(page), "Signed in as tester");
    await page.locator("#session").getByRole("button", { name: "Sign out" }).click();
    await waitForText(sessionStatus(page), "Not signed in");
    assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('auth-token')"), null);
    assert.equal(await page.evaluate<string>("document.activeElement?.textContent"), "Sign in", "the focus moves to Sign in");
    await addOrder(page, "After signing out");
    await waitForText(page.locator("#order-error"), /^UNAUTHENTICATED Sign in to make changes/);
    problems.assertNone();
    await page.close();
  });

  test("a token without the scope: PERMISSION_DENIED says which scope is missing; another token then works", async () => {
    const { page, problems } = await open();
    await settled(page);
    await signInWith(page, await mintToken({ scope: "orders:write" }));
    await waitForText(sessionStatus(page), /Signed in as tester\s+orders:write/);

    // The missing scope comes from the server's WWW-Authenticate challenge: a header on Connect, a trailer on gRPC-Web.
    for (const protocol of pageProtocols) {
      await chooseProtocol(page, protocol.label);
      const tries = server.callLogs("/movie.v1.MovieService/CreateMovie").length;
      await addMovie(page, `Out of scope (${protocol.slug})`);
      // Submitting clears the last answer, so what shows once the server has answered is this try's.
      assert.equal((await server.waitForCallLog("/movie.v1.MovieService/CreateMovie", tries + 1)).code, "permission_denied");
      await waitForText(
        page.locator("#movie-create-error"),
        /^PERMISSION_DENIED Your token does not allow this: it needs the scope “movies:write”\. Yours has “orders:write”\. Use another token…$/,
      );
    }
    await screenshot(page, "auth-permission-denied", "#movies");

    // Orders are within the token's scope.
    await addOrder(page, "Within scope");
    await page.locator("#order-rows tr", { hasText: "Within scope" }).waitFor();

    // The prompt's button leads to another token; the prompt then says to try again, and keeps the focus.
    await page.locator("#movie-create-error").getByRole("button", { name: "Use another token…" }).click();
    await waitForText(signInDialog(page).locator("#sign-in-reason"), "it needs the scope “movies:write”");
    await pasteToken(page, fullToken);
    await waitForText(page.locator("#movie-create-error"), /^Signed in as tester: try again\.$/);
    assert.equal(await page.evaluate<string>("document.activeElement?.id"), "movie-create-error");
    await page.locator("#movies").getByRole("button", { name: "Add movie" }).click();
    await waitForText(page.locator("#movie-detail-title"), /Out of scope/);
    await page.locator("#movie-detail").getByRole("button", { name: "Delete movie" }).click();
    await page.locator("#movie-detail").waitFor({ state: "hidden" });
    const order = page.locator("#order-rows tr", { hasText: "Within scope" });
    await order.getByRole("button", { name: "Delete Within scope" }).click();
    await order.waitFor({ state: "detached" });
    problems.assertNone();
    await page.close();
  });

  test("the Orders panel shows the signed-in person's own orders, and changes with the sign-in", async () => {
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const stranger = await mintToken({ sub: "stranger", scope: "orders:write" });
    const theirs = (await orders.createOrder({ name: "A stranger's order" }, { headers: { authorization: `Bearer ${stranger}` } })).order;
    const { page, problems } = await open();
    await signInWith(page, fullToken);
    await settled(page);
    await addOrder(page, "Mine only");
    const mine = page.locator("#order-rows tr", { hasText: "Mine only" });
    await mine.waitFor();
    // A change by someone else reaches neither the table nor the watch's activity line.
    await orders.updateOrder({ id: theirs?.id ?? "", completed: true }, { headers: { authorization: `Bearer ${stranger}` } });
    await page.waitForTimeout(300);
    assert.equal(await page.locator("#order-rows tr", { hasText: "A stranger's order" }).count(), 0);
    // Signed out, the page shows what anonymous callers own: nothing of the signed-in person's.
    await page.locator("#session").getByRole("button", { name: "Sign out" }).click();
    await mine.waitFor({ state: "detached" });
    // Signing in as the stranger shows the stranger's order.
    await signInWith(page, stranger);
    await page.locator("#order-rows tr", { hasText: "A stranger's order" }).waitFor();
    assert.equal(await mine.count(), 0);
    problems.assertNone();
    await page.close();
  });

  test("a refused change leaves the table as the server has it", async () => {
    const { page } = await open();
    await signInWith(page, fullToken);
    await settled(page);
    await addOrder(page, "Tick me");
    const row = page.locator("#order-rows tr", { hasText: "Tick me" });
    await row.waitFor();
    // The same person with a token that may not change orders: the order is still theirs to see.
    await page.locator("#session").getByRole("button", { name: "Sign out" }).click();
    await signInWith(page, await mintToken({ scope: "movies:write" }));
    await row.getByRole("checkbox", { name: "Completed: Tick me" }).click();
    await waitForText(page.locator("#order-error"), /^PERMISSION_DENIED/);
    assert.equal(await row.getByRole("checkbox").isChecked(), false, "the refused tick is taken back");
    await page.locator("#session").getByRole("button", { name: "Sign out" }).click();
    await signInWith(page, fullToken);
    await row.getByRole("button", { name: "Delete Tick me" }).click();
    await row.waitFor({ state: "detached" });
    await page.close();
  });

  test("a token in the address is taken and removed from the address at once", async () => {
    const { page, problems } = await open(`/?protocol=grpc-web#token=${fullToken}`);
    await waitForText(sessionStatus(page), "Signed in as tester");
    assert.equal(page.url(), `${server.baseUrl}/?protocol=grpc-web`);
    assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('auth-token')"), fullToken);
    await settled(page);
    await addOrder(page, "Signed in by link");
    const row = page.locator("#order-rows tr", { hasText: "Signed in by link" });
    await row.waitFor();
    await row.getByRole("button", { name: "Delete Signed in by link" }).click();
    await row.waitFor({ state: "detached" });
    problems.assertNone();
    // The address with the token was replaced, not left behind in the history.
    await page.goBack();
    assert.equal(page.url().includes(fullToken), false, `back leads to ${page.url()}`);
    await page.close();

    // A token that cannot be one is removed too, and the sign-in says why it was not used.
    const bad = await open("/#token=not%20a%20token!");
    await signInDialog(bad.page).waitFor();
    await waitForText(bad.page.locator("#sign-in-error"), /^The token in the address was not used\. That is not a bearer token/);
    assert.equal(bad.page.url(), `${server.baseUrl}/`);
    await bad.page.close();
  });

  test("on a phone, the sign-in dialog and the signed-in header fit the screen", async () => {
    const screenWidth = 390;
    const page = await browser.newPage({
      viewport: { width: screenWidth, height: 844 },
      isMobile: true,
      hasTouch: true,
      colorScheme: "dark",
      reducedMotion: "reduce",
    });
    const problems = watchForPageProblems(page);
    await page.goto(`${server.baseUrl}/`);
    await settled(page);
    // The document against the screen's width: a mobile viewport grows to content that overflows.
    const documentWidth = () => page.evaluate<number>("document.documentElement.scrollWidth");
    await page.locator("#session").getByRole("button", { name: "Sign in", exact: true }).click();
    const dialog = await signInDialog(page).boundingBox();
    assert.ok(dialog && dialog.x >= 0 && dialog.x + dialog.width <= screenWidth, "the dialog is within the screen");
    await screenshot(page, "auth-phone-dialog");
    await pasteToken(page, await mintToken({ scope: "movies:write orders:write", sub: "someone-with-a-rather-long-subject@example.test" }));
    await waitForText(sessionStatus(page), "Signed in as someone-with-a-rather-long-subject@example.test");
    assert.ok((await documentWidth()) <= screenWidth, `the page is ${await documentWidth()}px wide on a ${screenWidth}px screen`);
    await screenshot(page, "auth-phone-signed-in");
    problems.assertNone();
    await page.close();
  });

  test("the sign-in refuses what cannot work, and signs out when the token expires", async () => {
    const { page, problems } = await open();
    await settled(page);
    await signInWith(page, "   ");
    await waitForText(page.locator("#sign-in-error"), "Paste a token first.");
    await pasteToken(page, "{not: a token}");
    await waitForText(page.locator("#sign-in-error"), "That is not a bearer token");
    await pasteToken(page, await mintToken({ scope: "orders:write", expiresIn: -120 }));
    await waitForText(page.locator("#sign-in-error"), /^This token expired on .+: make a new one\.$/);
    assert.equal(await signInDialog(page).isVisible(), true, "the dialog stays open to try again");
    await waitForText(sessionStatus(page), "Not signed in");

    await pasteToken(page, await mintToken({ scope: "orders:write", expiresIn: 2 }));
    await waitForText(sessionStatus(page), "Signed in as tester");
    await waitForText(sessionStatus(page), /^Not signed in\s+Your token expired at /, 5_000);
    assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('auth-token')"), null);
    problems.assertNone();
    await page.close();
  });
});

describeUnless(skip, "web page with AUTH_REQUIRE_FOR_READS=true", () => {
  let server: TestServer;
  let browser: Browser;
  let token: string;

  before(async () => {
    server = await startTestServer({ ...authEnv, AUTH_REQUIRE_FOR_READS: "true" });
    browser = await launchBrowser();
    // Reads need a valid token, of any scope.
    token = await mintToken({ scope: "" });
  });

  after(async () => {
    await browser?.close();
    await server?.shutdown();
  });

  test("signed out, the page says reads need a token; once signed in, everything loads and every call carries it", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    const problems = watchForPageProblems(page);
    await page.goto(`${server.baseUrl}/`);
    await waitForText(
      page.locator("#movie-list-error"),
      /^UNAUTHENTICATED Sign in to use this server: it needs a token for every call, reads too\. Sign in…/,
    );
    await waitForText(page.locator("#orders-connection"), "Not live: sign in to see orders as they change.");
    await waitForText(sessionStatus(page), /Not signed in\s+This server needs a token for every call\./);
    await screenshot(page, "auth-reads-signed-out");

    const logsBefore = server.logs.length;
    await page.locator("#movie-list-error").getByRole("button", { name: "Sign in…" }).click();
    assert.match((await signInDialog(page).textContent()) ?? "", /sent with every call, because this server asks for a token on reads too/);
    await pasteToken(page, token);
    // Signing in loads what could not be read, without a reload.
    await settled(page);
    assert.equal(await page.locator("#movie-list-error").isVisible(), false);
    await page.locator("#calculator").getByRole("button", { name: "Calculate" }).click();
    await waitForText(page.locator("#calc-result"), "√16 = 4");
    const calls = server.logs.slice(logsBefore).filter((record) => typeof record.procedure === "string");
    assert.ok(
      calls.some((record) => record.procedure === "/order.v1.OrderService/WatchOrders" || reads.includes(String(record.procedure))),
    );
    for (const call of calls) assert.equal(call.principal, "tester", `${call.procedure} carried the token`);
    problems.assertNone();
    await page.close();
  });

  test("signed in before the page knew reads need a token: it learns from the first refusal and loads anyway", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    const problems = watchForPageProblems(page);
    const logsBefore = server.logs.length;
    await page.goto(`${server.baseUrl}/#token=${token}`);
    await settled(page);
    await waitUntil(async () => !(await page.locator("#movie-list-error").isVisible()), "no error left");
    assert.equal(await page.locator("#order-error").isVisible(), false);
    // The first movie read went without the token and was refused; the same read then went again with it.
    const listMovies = server.logs.slice(logsBefore).filter((record) => record.procedure === "/movie.v1.MovieService/ListMovies");
    assert.deepEqual(
      listMovies.slice(0, 2).map(({ code, principal }) => ({ code, principal })),
      [
        { code: "unauthenticated", principal: undefined },
        { code: "ok", principal: "tester" },
      ],
    );
    await waitForText(callLogRow(page, "MovieService/ListMovies"), /ok\s+.*sent/);
    // Order reads carry the token from the start: orders are the signed-in person's own.
    const listOrders = server.logs.slice(logsBefore).filter((record) => record.procedure === "/order.v1.OrderService/ListOrders");
    assert.deepEqual(listOrders[0] && { code: listOrders[0].code, principal: listOrders[0].principal }, {
      code: "ok",
      principal: "tester",
    });
    await waitForText(callLogRow(page, "OrderService/ListOrders"), /ok\s+.*sent/);
    assert.match((await sessionStatus(page).textContent()) ?? "", /^Signed in as tester/);
    problems.assertNone();
    await page.close();
  });
});

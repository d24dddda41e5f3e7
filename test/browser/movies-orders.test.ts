import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Client, Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { Browser, Page } from "playwright-core";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
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
import { type EngineCase, sqliteCase } from "../support/database.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";

const skip = browserUnavailable();

/** The seven movies seeded on first start, in listing order (title, ignoring case, then id). */
const seededTitles = ["Creed", "Spectre", "The Danish Girl", "The Good Dinosaur", "The Martian", "The Night Before", "Victor Frankenstein"];

describeUnless(skip, "web page: Movies and Orders in a real browser", () => {
  // A real data folder: the same data is there when the server comes back.
  let engine: EngineCase;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let problems: ReturnType<typeof watchForPageProblems>;
  // A separate gRPC client (HTTP/2), standing for "a change made elsewhere".
  let sessions: Http2SessionManager;
  let grpcMovies: Client<typeof MovieService>;
  let grpcOrders: Client<typeof OrderService>;

  const connectGrpc = () => {
    sessions = new Http2SessionManager(server.baseUrl);
    const transport = createGrpcTransport({ baseUrl: server.baseUrl, sessionManager: sessions });
    grpcMovies = createClient(MovieService, transport);
    grpcOrders = createClient(OrderService, transport);
  };

  before(async () => {
    engine = await sqliteCase();
    server = await startTestServer(engine.env);
    connectGrpc();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    problems = watchForPageProblems(page);
    await page.goto(`${server.baseUrl}/`);
  });

  after(async () => {
    sessions?.abort();
    await browser?.close();
    await server?.shutdown();
    await engine?.cleanup();
  });

  const movies = () => page.locator("#movies");
  const movieTitles = () => movies().locator("#movie-list .title").allInnerTexts();
  const orders = () => page.locator("#orders");
  const orderRow = (name: string) => page.locator("#order-rows tr", { has: page.getByRole("cell", { name, exact: true }) });

  /** Types into a filter field, as a person would, and waits for the streamed listing to finish. */
  const filterMovies = async (title: string, director: string) => {
    const calls = server.callLogs("/movie.v1.MovieService/ListMovies").length;
    await movies().getByLabel("Title contains").fill(title);
    await movies().getByLabel("Director contains").fill(director);
    await movies().getByLabel("Director contains").press("Enter");
    await server.waitForCallLog("/movie.v1.MovieService/ListMovies", calls + 1);
    await waitForText(movies().locator("#movie-status"), /^(\d+ movies?|No movie matches\.)$/);
  };

  for (const protocol of pageProtocols) {
    describe(protocol.label, () => {
      before(() => chooseProtocol(page, protocol.label));

      test("list the catalogue as it streams in, and filter it by title and director", async () => {
        await filterMovies("", "");
        assert.deepEqual(await movieTitles(), seededTitles);
        await waitForText(movies().locator("#movie-status"), "7 movies");
        const logged = server.callLogs("/movie.v1.MovieService/ListMovies").at(-1);
        assert.equal(logged?.protocol, protocol.serverProtocol);
        // One message per movie, as the call log on the page shows.
        await waitForText(page.locator("#call-log tr").first(), /MovieService\/ListMovies\s+.*ok · 7 messages/);

        await filterMovies("the", "");
        assert.deepEqual(await movieTitles(), ["The Danish Girl", "The Good Dinosaur", "The Martian", "The Night Before"]);
        await filterMovies("THE", "scott");
        assert.deepEqual(await movieTitles(), ["The Martian"]);
        await filterMovies("", "nobody at all");
        assert.deepEqual(await movieTitles(), []);
        await waitForText(movies().locator("#movie-status"), "No movie matches.");
        await filterMovies("", "");
      });

      test("create a movie, change its rating, delete it; the list follows", async () => {
        const title = `Web Check (${protocol.slug})`;
        await movies().getByLabel("Title", { exact: true }).fill(title);
        await movies().getByLabel("Director", { exact: true }).fill("Playwright");
        await movies().getByLabel("Rating (0–10)").last().fill("6.5");
        await movies().getByRole("button", { name: "Add movie" }).click();

        const detail = movies().locator("#movie-detail");
        await waitForText(detail.getByRole("heading"), title);
        assert.equal(await detail.locator("#movie-detail-director").textContent(), "Playwright");
        const id = await detail.locator("#movie-detail-id").textContent();
        assert.ok(id !== null && id.length > 0);
        await waitUntil(async () => (await movieTitles()).includes(title), "the new movie in the list");
        assert.deepEqual(
          await movieTitles(),
          [...seededTitles, title].sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base" })),
        );

        await detail.getByLabel("Rating (0–10)").fill("9.1");
        await detail.getByRole("button", { name: "Save rating" }).click();
        const item = movies().locator("#movie-list button", { hasText: title });
        await waitForText(item, "★ 9.1");
        assert.equal((await grpcMovies.getMovie({ id })).movie?.rating, 9.1, "the server stored the new rating");

        // The contract's rule, checked in the page: the problem shows next to the rating, and the server keeps 9.1.
        await detail.getByLabel("Rating (0–10)").fill("11");
        await detail.getByRole("button", { name: "Save rating" }).click();
        await waitForText(detail.locator("#movie-rating-problem"), /rating must be from 0 to 10, got 11/);
        assert.equal((await grpcMovies.getMovie({ id })).movie?.rating, 9.1, "nothing was sent");
        await screenshot(page, `movies-${protocol.slug}`, "#movies");

        await detail.getByRole("button", { name: "Delete movie" }).click();
        await waitUntil(async () => !(await movieTitles()).includes(title), "the movie to leave the list");
        assert.equal(await detail.isVisible(), false);
        assert.equal((await rejection(grpcMovies.getMovie({ id }))).code, Code.NotFound);
        assert.deepEqual(await movieTitles(), seededTitles);
      });

      test("orders: create, mark completed, rename and delete from the table", async () => {
        await waitForText(orders().locator("#orders-connection"), "Live");
        const name = `Coffee beans (${protocol.slug})`;
        await orders().getByLabel("New order").fill(name);
        await orders().getByRole("button", { name: "Add order" }).click();
        await orderRow(name).waitFor();
        assert.equal(await orders().getByLabel("New order").inputValue(), "", "the form is ready for the next order");
        const id = await orderRow(name).getAttribute("data-id");
        assert.ok(id);

        // A click, not check(): check() insists the box is ticked right after
        // the click, but the live feed may redraw the row from the server's
        // state (not yet completed) before the update's answer redraws it ticked.
        await orders()
          .getByRole("checkbox", { name: `Completed: ${name}` })
          .click();
        await waitUntil(async () => (await grpcOrders.getOrder({ id })).order?.completed === true, "the order completed on the server");
        await waitUntil(
          async () => (await orderRow(name).getAttribute("class"))?.includes("completed") ?? false,
          "the row to show it completed",
        );

        const renamed = `Espresso beans (${protocol.slug})`;
        await orders()
          .getByRole("button", { name: `Rename ${name}` })
          .click();
        const field = orders().getByRole("textbox", { name: `New name for ${name}` });
        await field.fill(renamed);
        await field.press("Enter");
        await orderRow(renamed).waitFor();
        assert.equal((await grpcOrders.getOrder({ id })).order?.name, renamed);

        await orders()
          .getByRole("button", { name: `Rename ${renamed}` })
          .click();
        await orders()
          .getByRole("textbox", { name: `New name for ${renamed}` })
          .fill("");
        await orders()
          .getByRole("textbox", { name: `New name for ${renamed}` })
          .press("Enter");
        await waitForText(orders().getByRole("alert"), /INVALID_ARGUMENT .*name/);
        await orders()
          .getByRole("textbox", { name: `New name for ${renamed}` })
          .press("Escape");
        await orderRow(renamed).waitFor();
        await screenshot(page, `orders-${protocol.slug}`, "#orders");

        await orders()
          .getByRole("button", { name: `Delete ${renamed}` })
          .click();
        await orderRow(renamed).waitFor({ state: "detached" });
        assert.equal((await rejection(grpcOrders.getOrder({ id }))).code, Code.NotFound);
      });

      test("an order created by a separate gRPC client appears live, then changes and goes", async () => {
        await waitForText(orders().locator("#orders-connection"), "Live");
        const watches = server.logs.filter((record) => record.procedure === "/order.v1.OrderService/WatchOrders").length;
        // The page's watch runs over the protocol chosen with the switch.
        await waitForText(
          page.locator("#call-log tr", { hasText: "OrderService/WatchOrders" }).first(),
          new RegExp(`${protocol.label}\\s+POST\\s+open`),
        );
        const name = `From gRPC (${protocol.slug})`;
        const { order } = await grpcOrders.createOrder({ name });
        assert.ok(order);
        await orderRow(name).waitFor({ timeout: 5_000 });
        await waitForText(orders().locator("#order-activity"), `Created “${name}”`);

        await grpcOrders.updateOrder({ id: order.id, completed: true });
        await waitUntil(
          async () =>
            await orders()
              .getByRole("checkbox", { name: `Completed: ${name}` })
              .isChecked(),
          "the checkbox to follow",
        );
        await grpcOrders.deleteOrder({ id: order.id });
        await orderRow(name).waitFor({ state: "detached", timeout: 5_000 });
        await waitForText(orders().locator("#order-activity"), `Deleted “${name}”`);
        // All of that came over the one watch stream the page holds open: none ended meanwhile.
        assert.equal(server.logs.filter((record) => record.procedure === "/order.v1.OrderService/WatchOrders").length, watches);
      });
    });
  }

  test("paging through the orders", async () => {
    const names = Array.from({ length: 7 }, (_, index) => `Paged order ${index + 1}`);
    for (const name of names) await grpcOrders.createOrder({ name });
    await orders().getByLabel("Per page").selectOption("5");
    await waitUntil(async () => (await page.locator("#order-rows tr").count()) === 5, "a page of five");
    assert.deepEqual(await orders().locator("#order-rows td.name").allInnerTexts(), names.slice(0, 5));
    assert.equal(await orders().getByRole("button", { name: "← Previous" }).isDisabled(), true);

    await orders().getByRole("button", { name: "Next →" }).click();
    await waitForText(orders().locator("#order-page"), "Page 2");
    await waitUntil(
      async () => (await orders().locator("#order-rows td.name").allInnerTexts()).join() === names.slice(5).join(),
      "the second page",
    );
    assert.equal(await orders().getByRole("button", { name: "Next →" }).isDisabled(), true);

    await orders().getByLabel("Show").selectOption({ label: "Completed" });
    await waitForText(orders().locator("#order-page"), "Page 1");
    await waitUntil(async () => (await page.locator("#order-rows tr").count()) === 0, "no completed order");
    assert.equal(await orders().locator("#order-empty").isVisible(), true);
    await orders().getByLabel("Show").selectOption({ label: "All orders" });

    await orders().getByRole("button", { name: "Next →" }).click();
    await orders().getByRole("button", { name: "← Previous" }).click();
    await waitUntil(
      async () => (await orders().locator("#order-rows td.name").allInnerTexts()).join() === names.slice(0, 5).join(),
      "the first page again",
    );
    await screenshot(page, "orders-paging", "#orders");
    for (const { id } of (await grpcOrders.listOrders({ pageSize: 500 })).orders) await grpcOrders.deleteOrder({ id });
    await orders().getByLabel("Per page").selectOption("10");
  });

  test("the live table reconnects by itself when the server goes away and comes back", async () => {
    await waitForText(orders().locator("#orders-connection"), "Live");
    const port = server.port;
    sessions.abort();
    await server.shutdown();
    // What happened, in words: first the server says it is shutting down, then it cannot be reached at all.
    const connection = orders().locator("#orders-connection");
    await waitForText(connection, /^Connection to the server lost: the server (is shutting down or restarting|cannot be reached)/);
    const status = await waitForText(
      connection,
      /^Connection to the server lost: the server cannot be reached\b.*\. Reconnecting…\s+Next try in \d+ s\./,
    );
    assert.doesNotMatch(status, /\bunknown\b|\bunavailable\b|\b[A-Z]+_[A-Z]+\b/i, "no raw status code names");
    assert.equal(await orders().getByRole("button", { name: "Retry now" }).isVisible(), true);
    await screenshot(page, "orders-reconnecting", "#orders");

    // The same server comes back on the same port with the same data.
    server = await startTestServer({ ...engine.env, PORT: String(port) });
    connectGrpc();
    await waitForText(orders().locator("#orders-connection"), "Live", 30_000);
    const name = "After the restart";
    await grpcOrders.createOrder({ name });
    await orderRow(name).waitFor({ timeout: 5_000 });
    problems.assertNone();
  });
});

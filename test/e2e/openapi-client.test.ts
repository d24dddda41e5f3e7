import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import createClient from "openapi-fetch";
import type { components, paths } from "../../gen/openapi/schema.js";
import { generatedApiDescription } from "../../server/web/api-description.js";
import { startTestServer } from "../support/server.js";

// A client made from the served description by third-party tools, as an API
// user would make one: openapi-typescript turned gen/openapi/openapi.json into
// gen/openapi/schema.d.ts at build time (npm run build), and openapi-fetch
// calls through those types, so this file compiling is half the test: every
// path, parameter, body and answer below is checked against the document.
// The other half: each call works against the real server, and together they
// reach every operation the document describes.

type Movie = components["schemas"]["movie.v1.Movie"];
type Order = components["schemas"]["order.v1.Order"];

const server = await startTestServer();
after(() => server.shutdown());

/** Each operation called, as "VERB /path/{template}", seen by openapi-fetch's middleware. */
const called = new Set<string>();
// Answers are read as application/json, the default of every route (a stream is then one JSON array).
const client = createClient<paths, "application/json">({ baseUrl: server.baseUrl });
client.use({
  onRequest({ request, schemaPath }) {
    called.add(`${request.method} ${schemaPath}`);
  },
});

/** The data of a successful answer, failing with the error otherwise. */
function ok<T>({ data, error, response }: { data?: T; error?: unknown; response: Response }): T {
  assert.equal(response.status, 200, `${response.url}: ${JSON.stringify(error)}`);
  assert.ok(data !== undefined, response.url);
  return data;
}

/** The Connect GET query for a request message. */
const connectGet = (message: object) => ({ params: { query: { encoding: "json" as const, message: JSON.stringify(message) } } });

describe("a client generated from /openapi.json (openapi-typescript + openapi-fetch)", () => {
  test("the calculator and greeter: REST custom methods by GET and POST, Connect by POST and GET", async () => {
    assert.deepEqual(ok(await client.GET("/v1/calculator:squareRoot", { params: { query: { number: 2 } } })), { result: Math.SQRT2 });
    assert.deepEqual(ok(await client.POST("/v1/calculator:squareRoot", { body: { number: 2 } })), { result: Math.SQRT2 });
    assert.deepEqual(ok(await client.GET("/v1/calculator:add", { params: { query: { a: 7, b: 2 } } })), { result: 9 });
    assert.deepEqual(ok(await client.POST("/v1/calculator:add", { body: { a: 7, b: 2 } })), { result: 9 });
    assert.deepEqual(ok(await client.GET("/v1/calculator:subtract", { params: { query: { a: 7, b: 2 } } })), { result: 5 });
    assert.deepEqual(ok(await client.POST("/v1/calculator:subtract", { body: { a: 7, b: 2 } })), { result: 5 });
    assert.deepEqual(ok(await client.GET("/v1/calculator:multiply", { params: { query: { a: 7, b: 2 } } })), { result: 14 });
    assert.deepEqual(ok(await client.POST("/v1/calculator:multiply", { body: { a: 7, b: 2 } })), { result: 14 });
    assert.deepEqual(ok(await client.GET("/v1/calculator:divide", { params: { query: { a: 7, b: 2 } } })), { result: 3.5 });
    assert.deepEqual(ok(await client.POST("/v1/calculator:divide", { body: { a: 7, b: 2 } })), { result: 3.5 });

    const calculator = "/calculator.v1.CalculatorService";
    assert.deepEqual(ok(await client.POST(`${calculator}/SquareRoot`, { body: { number: 16 } })), { result: 4 });
    assert.deepEqual(ok(await client.GET(`${calculator}/SquareRoot`, connectGet({ number: 16 }))), { result: 4 });
    assert.deepEqual(ok(await client.POST(`${calculator}/Add`, { body: { a: 1, b: 2 } })), { result: 3 });
    assert.deepEqual(ok(await client.GET(`${calculator}/Add`, connectGet({ a: 1, b: 2 }))), { result: 3 });
    assert.deepEqual(ok(await client.POST(`${calculator}/Subtract`, { body: { a: 1, b: 2 } })), { result: -1 });
    assert.deepEqual(ok(await client.GET(`${calculator}/Subtract`, connectGet({ a: 1, b: 2 }))), { result: -1 });
    assert.deepEqual(ok(await client.POST(`${calculator}/Multiply`, { body: { a: 3, b: 2 } })), { result: 6 });
    assert.deepEqual(ok(await client.GET(`${calculator}/Multiply`, connectGet({ a: 3, b: 2 }))), { result: 6 });
    assert.deepEqual(ok(await client.POST(`${calculator}/Divide`, { body: { a: 3, b: 2 } })), { result: 1.5 });
    assert.deepEqual(ok(await client.GET(`${calculator}/Divide`, connectGet({ a: 3, b: 2 }))), { result: 1.5 });

    assert.deepEqual(ok(await client.POST("/v1/greeter:sayHello", { body: { name: "Ada" } })), { message: "Hello, Ada!" });
    assert.deepEqual(ok(await client.GET("/v1/greeter:sayHello", { params: { query: { name: "Ada" } } })), { message: "Hello, Ada!" });
    assert.deepEqual(ok(await client.POST("/v1/greeter:sayHelloAgain", { body: { name: "Ada" } })), { message: "Hello again, Ada!" });
    assert.deepEqual(ok(await client.GET("/v1/greeter:sayHelloAgain", { params: { query: { name: "Ada" } } })), {
      message: "Hello again, Ada!",
    });
    const replies = ok(await client.GET("/v1/greeter:lotsOfReplies", { params: { query: { name: "Ada" } } }));
    assert.ok(replies.length > 1 && replies.every((reply) => "message" in reply && reply.message?.includes("Ada")));
    assert.deepEqual(ok(await client.POST("/v1/greeter:lotsOfReplies", { body: { name: "Ada" } })), replies);

    const greeter = "/greeter.v1.GreeterService";
    assert.deepEqual(ok(await client.POST(`${greeter}/SayHello`, { body: { name: "Bo" } })), { message: "Hello, Bo!" });
    assert.deepEqual(ok(await client.GET(`${greeter}/SayHello`, connectGet({ name: "Bo" }))), { message: "Hello, Bo!" });
    assert.deepEqual(ok(await client.POST(`${greeter}/SayHelloAgain`, { body: { name: "Bo" } })), { message: "Hello again, Bo!" });
    assert.deepEqual(ok(await client.GET(`${greeter}/SayHelloAgain`, connectGet({ name: "Bo" }))), { message: "Hello again, Bo!" });
  });

  test("movies: the resource routes and the Connect endpoints", async () => {
    const listed = ok(await client.GET("/v1/movies", { params: { query: { titleContains: "mar" } } }));
    assert.ok(listed.length > 0 && listed.every((movie) => "title" in movie && /mar/i.test(movie.title ?? "")), JSON.stringify(listed));

    const created: Movie = ok(await client.POST("/v1/movies", { body: { title: "Arrival", director: "Denis Villeneuve", rating: 7.9 } }));
    const id = created.id ?? "";
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(ok(await client.GET("/v1/movies/{id}", { params: { path: { id } } })), created);
    const updated = ok(await client.PATCH("/v1/movies/{id}", { params: { path: { id } }, body: { rating: 8.1 } }));
    assert.equal(updated.rating, 8.1);
    assert.deepEqual(ok(await client.DELETE("/v1/movies/{id}", { params: { path: { id } } })), {});
    const gone = await client.GET("/v1/movies/{id}", { params: { path: { id } } });
    assert.equal(gone.response.status, 404);
    assert.equal(gone.error?.code, 5, "a google.rpc.Status: NOT_FOUND");

    const movies = "/movie.v1.MovieService";
    const made = ok(
      await client.POST(`${movies}/CreateMovie`, { body: { id: "openapi-1", title: "Heat", director: "Michael Mann" } }),
    ).movie;
    assert.equal(made?.id, "openapi-1");
    assert.deepEqual(ok(await client.POST(`${movies}/GetMovie`, { body: { id: "openapi-1" } })).movie, made);
    assert.deepEqual(ok(await client.GET(`${movies}/GetMovie`, connectGet({ id: "openapi-1" }))).movie, made);
    assert.equal(ok(await client.POST(`${movies}/UpdateMovie`, { body: { id: "openapi-1", rating: 8 } })).movie?.rating, 8);
    assert.deepEqual(ok(await client.POST(`${movies}/DeleteMovie`, { body: { id: "openapi-1" } })), {});
    const refused = await client.POST(`${movies}/GetMovie`, { body: { id: "" } });
    assert.equal(refused.response.status, 400);
    assert.equal(refused.error?.code, "invalid_argument", "a Connect error");
  });

  test("orders: the resource routes with paging, the watch as NDJSON, and the Connect endpoints", async () => {
    const watch = new AbortController();
    const watched = await client.GET("/v1/orders:watch", {
      parseAs: "stream",
      headers: { accept: "application/x-ndjson" },
      signal: watch.signal,
    });
    assert.equal(watched.response.headers.get("content-type"), "application/x-ndjson");
    const lines = watched.response.body?.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await lines?.read())?.value ?? "", /^\{"started":true\}\n/);

    const created: Order = ok(await client.POST("/v1/orders", { body: { name: "tea" } }));
    const id = created.id ?? "";
    assert.match((await lines?.read())?.value ?? "", /"type":"ORDER_CHANGE_TYPE_CREATED"/);
    watch.abort();
    assert.deepEqual(ok(await client.GET("/v1/orders/{id}", { params: { path: { id } } })), created);
    const updated = ok(
      await client.PATCH("/v1/orders/{id}", { params: { path: { id } }, body: { completed: true, etag: created.etag ?? "" } }),
    );
    assert.equal(updated.completed, true);
    const page = ok(await client.GET("/v1/orders", { params: { query: { pageSize: 1, completed: true } } }));
    assert.deepEqual(
      page.orders?.map((order) => order.id),
      [id],
    );
    assert.deepEqual(ok(await client.DELETE("/v1/orders/{id}", { params: { path: { id } } })), {});

    const orders = "/order.v1.OrderService";
    const order = ok(await client.POST(`${orders}/CreateOrder`, { body: { name: "coffee" } })).order;
    const orderId = order?.id ?? "";
    assert.deepEqual(ok(await client.POST(`${orders}/GetOrder`, { body: { id: orderId } })).order, order);
    assert.deepEqual(ok(await client.GET(`${orders}/GetOrder`, connectGet({ id: orderId }))).order, order);
    assert.equal(ok(await client.POST(`${orders}/UpdateOrder`, { body: { id: orderId, name: "espresso" } })).order?.name, "espresso");
    const listed = ok(await client.POST(`${orders}/ListOrders`, { body: { pageSize: 10 } })).orders ?? [];
    assert.ok(listed.some((found) => found.id === orderId));
    assert.deepEqual(ok(await client.GET(`${orders}/ListOrders`, connectGet({ pageSize: 10 }))).orders, listed);
    assert.deepEqual(ok(await client.POST(`${orders}/DeleteOrder`, { body: { id: orderId } })), {});
  });

  test("together the calls reached every operation of the document", async () => {
    const described = await generatedApiDescription();
    const operations = Object.entries(described.paths).flatMap(([path, item]) =>
      Object.keys(item).map((verb) => `${verb.toUpperCase()} ${path}`),
    );
    assert.deepEqual([...called].sort(), operations.sort());
  });
});

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type CallOptions, Code, createClient, type Transport } from "@connectrpc/connect";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { Movie } from "../../gen/tutorial/movie/movie_pb.js";
import { OrderService as TutorialOrderService } from "../../gen/tutorial/order/order_pb.js";
import type { Scope } from "../../server/policy/methods.js";
import { rejection } from "../support/assert.js";
import { protocolCases, startTestServer } from "../support/server.js";
import { authEnv, badAuthorizations, mintToken } from "../support/tokens.js";

// Every method that changes data, on every contract, over every protocol,
// against a server that requires tokens (a shared secret, an issuer and an
// audience), with every kind of bad token and with good ones.

// Hundreds of refused tokens from one address, on purpose: the budget of
// failed authentications (test/e2e/auth-failures.test.ts) must not end them.
const server = await startTestServer({ ...authEnv, RATE_LIMIT_AUTH_FAILURES: "100000" });
const protocols = protocolCases(server.baseUrl);
after(async () => {
  protocols.close();
  await server.shutdown();
});
// Changes go by POST; Connect GET is for reads only.
const posting = protocols.cases.filter((protocol) => !protocol.get);
const martian = "a8034f44-aee4-44cf-b32c-74cf452aaaae";

const withAuthorization = (header: string): CallOptions => ({ headers: { authorization: header } });

/** Each method that changes data, with the scope it needs and a request it accepts (reached only when allowed). */
const mutations: ReadonlyArray<{ procedure: string; scope: Scope; call(transport: Transport, options: CallOptions): Promise<unknown> }> = [
  {
    procedure: "/movie.v1.MovieService/CreateMovie",
    scope: "movies:write",
    call: (t, o) => createClient(MovieService, t).createMovie({ title: "Refused", director: "Nobody", rating: 1 }, o),
  },
  {
    procedure: "/movie.v1.MovieService/UpdateMovie",
    scope: "movies:write",
    call: (t, o) => createClient(MovieService, t).updateMovie({ id: martian, rating: 1 }, o),
  },
  {
    procedure: "/movie.v1.MovieService/DeleteMovie",
    scope: "movies:write",
    call: (t, o) => createClient(MovieService, t).deleteMovie({ id: martian }, o),
  },
  {
    procedure: "/order.v1.OrderService/CreateOrder",
    scope: "orders:write",
    call: (t, o) => createClient(OrderService, t).createOrder({ name: "Refused" }, o),
  },
  {
    procedure: "/order.v1.OrderService/UpdateOrder",
    scope: "orders:write",
    call: (t, o) => createClient(OrderService, t).updateOrder({ id: crypto.randomUUID(), completed: true }, o),
  },
  {
    procedure: "/order.v1.OrderService/DeleteOrder",
    scope: "orders:write",
    call: (t, o) => createClient(OrderService, t).deleteOrder({ id: crypto.randomUUID() }, o),
  },
  {
    procedure: "/order.OrderService/CreateOrder",
    scope: "orders:write",
    call: (t, o) => createClient(TutorialOrderService, t).createOrder({ name: "Refused" }, o),
  },
  {
    procedure: "/order.OrderService/UpdateOrder",
    scope: "orders:write",
    call: (t, o) => createClient(TutorialOrderService, t).updateOrder({ uuid: crypto.randomUUID(), completed: true }, o),
  },
  {
    procedure: "/order.OrderService/DeleteOrder",
    scope: "orders:write",
    call: (t, o) => createClient(TutorialOrderService, t).deleteOrder({ uuid: crypto.randomUUID() }, o),
  },
];

describe("calls that change data need a token with the right scope", () => {
  for (const { name, transport } of posting) {
    describe(name, () => {
      test("without a token: UNAUTHENTICATED, saying which scope to bring", async () => {
        for (const { procedure, scope, call } of mutations) {
          const error = await rejection(call(transport, {}));
          assert.equal(error.code, Code.Unauthenticated, procedure);
          const method = procedure.split("/").at(-1) ?? "";
          assert.equal(
            error.rawMessage,
            `${method} changes data: send a bearer token with the scope "${scope}" in the header "authorization: Bearer <token>"`,
          );
          assert.equal(error.metadata.get("www-authenticate"), "Bearer", procedure);
        }
      });

      test("with an expired, forged, foreign, unsigned or garbage token: UNAUTHENTICATED", async () => {
        for (const { procedure, scope, call } of mutations) {
          for (const bad of await badAuthorizations(scope)) {
            const error = await rejection(call(transport, withAuthorization(bad.header)));
            assert.equal(error.code, Code.Unauthenticated, `${procedure} ${bad.name}`);
            assert.match(error.rawMessage, bad.message, `${procedure} ${bad.name}`);
            assert.match(error.metadata.get("www-authenticate") ?? "", /^Bearer\b/, `${procedure} ${bad.name}`);
          }
        }
      });

      test("with a valid token lacking the scope: PERMISSION_DENIED, naming the scope", async () => {
        const readOnly = await mintToken({ scope: "profile" });
        const otherScope = {
          "movies:write": await mintToken({ scope: "orders:write" }),
          "orders:write": await mintToken({ scope: "movies:write" }),
        };
        for (const { procedure, scope, call } of mutations) {
          const method = procedure.split("/").at(-1) ?? "";
          const noScope = await rejection(call(transport, withAuthorization(`Bearer ${readOnly}`)));
          assert.equal(noScope.code, Code.PermissionDenied, procedure);
          assert.equal(noScope.rawMessage, `${method} needs the scope "${scope}"; the token's scopes are "profile"`);
          assert.equal(noScope.metadata.get("www-authenticate"), `Bearer error="insufficient_scope", scope="${scope}"`);
          const wrongScope = await rejection(call(transport, withAuthorization(`Bearer ${otherScope[scope]}`)));
          assert.equal(wrongScope.code, Code.PermissionDenied, procedure);
        }
      });

      test("with the right scope: every change goes through, and the call log names who made it and the scope", async () => {
        const slug = name.replace(/\W+/g, "-").toLowerCase();
        const movies = withAuthorization(`Bearer ${await mintToken({ sub: `movie-editor-${slug}`, scope: "movies:write" })}`);
        const orders = withAuthorization(`Bearer ${await mintToken({ sub: `clerk-${slug}`, scope: "orders:write profile" })}`);

        const movieClient = createClient(MovieService, transport);
        const id = `auth-${slug}`;
        await movieClient.createMovie({ id, title: "Arrival", director: "Denis Villeneuve", rating: 7.9 }, movies);
        assert.equal((await movieClient.updateMovie({ id, rating: 8.1 }, movies)).movie?.rating, 8.1);
        await movieClient.deleteMovie({ id }, movies);

        const orderClient = createClient(OrderService, transport);
        const created = (await orderClient.createOrder({ name: `Tea (${name})` }, orders)).order;
        assert.ok(created);
        assert.equal((await orderClient.updateOrder({ id: created.id, completed: true }, orders)).order?.completed, true);
        await orderClient.deleteOrder({ id: created.id }, orders);

        const tutorial = createClient(TutorialOrderService, transport);
        const placed = (await tutorial.createOrder({ name: `Coffee (${name})` }, orders)).order;
        assert.ok(placed);
        assert.equal((await tutorial.updateOrder({ uuid: placed.uuid, completed: true }, orders)).order?.completed, true);
        assert.equal((await tutorial.deleteOrder({ uuid: placed.uuid }, orders)).success, true);

        for (const { procedure, scope } of mutations) {
          const expected = scope === "movies:write" ? `movie-editor-${slug}` : `clerk-${slug}`;
          const line = server.callLogs(procedure).find((record) => record.code === "ok" && record.principal === expected);
          assert.ok(line, `${procedure}: a log line for ${expected}`);
          assert.equal(line.scope, scope);
        }
      });
    });
  }

  test("the call log never holds a token", () => {
    const logged = JSON.stringify(server.logs);
    assert.doesNotMatch(logged, /eyJ[\w-]+\.eyJ/, "no JWT in the logs");
    assert.doesNotMatch(logged, /Bearer (?!<token>)/, "only the advice on how to send one");
  });
});

describe("reads stay public", () => {
  for (const { name, transport } of protocols.cases) {
    test(`${name}: every read of every contract answers without a token`, async () => {
      const movies = createClient(MovieService, transport);
      assert.equal((await movies.getMovie({ id: martian })).movie?.title, "The Martian");
      for await (const { movie } of movies.listMovies({ titleContains: "martian" })) assert.equal(movie?.id, martian);
      const tutorialMovies = createClient(Movie, transport);
      assert.equal((await tutorialMovies.getMovieByID({ id: martian })).title, "The Martian");
      for await (const movie of tutorialMovies.getListMovies({})) assert.ok(movie.title);

      const orders = createClient(OrderService, transport);
      await orders.listOrders({});
      assert.equal((await rejection(orders.getOrder({ id: crypto.randomUUID() }))).code, Code.NotFound, "past the auth check");
      const watch = new AbortController();
      for await (const change of orders.watchOrders({}, { signal: watch.signal })) {
        assert.equal(change.started, true);
        watch.abort();
        break;
      }
      const tutorialOrders = createClient(TutorialOrderService, transport);
      await tutorialOrders.listOrders({});
      assert.equal((await rejection(tutorialOrders.readOrder({ uuid: crypto.randomUUID() }))).code, Code.NotFound);

      assert.equal((await createClient(CalculatorService, transport).squareRoot({ number: 4 })).result, 2);
      assert.equal((await createClient(GreeterService, transport).sayHello({ name: "Ada" })).message, "Hello, Ada!");
    });
  }

  test("but a bad token sent with a read is refused all the same", async () => {
    const transport = posting[0]?.transport;
    assert.ok(transport);
    const expired = await mintToken({ expiresIn: -120 });
    const error = await rejection(createClient(MovieService, transport).getMovie({ id: martian }, withAuthorization(`Bearer ${expired}`)));
    assert.equal(error.code, Code.Unauthenticated);
    assert.equal(error.rawMessage, "the bearer token has expired");
  });
});

describe("what a plain HTTP client sees (Connect protocol)", () => {
  const post = (path: string, body: unknown, authorization?: string) =>
    fetch(`${server.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization !== undefined && { authorization }) },
      body: JSON.stringify(body),
    });

  test("401 with WWW-Authenticate without a token or with a bad one, 403 without the scope, 200 with it", async () => {
    const missing = await post("/order.v1.OrderService/CreateOrder", { name: "curl" });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get("www-authenticate"), "Bearer");
    assert.deepEqual(await missing.json(), {
      code: "unauthenticated",
      message: 'CreateOrder changes data: send a bearer token with the scope "orders:write" in the header "authorization: Bearer <token>"',
    });

    const expired = await post("/order.v1.OrderService/CreateOrder", { name: "curl" }, `Bearer ${await mintToken({ expiresIn: -120 })}`);
    assert.equal(expired.status, 401);
    assert.equal(expired.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    assert.deepEqual(await expired.json(), { code: "unauthenticated", message: "the bearer token has expired" });

    const forbidden = await post(
      "/order.v1.OrderService/CreateOrder",
      { name: "curl" },
      `Bearer ${await mintToken({ scope: "movies:write" })}`,
    );
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.headers.get("www-authenticate"), 'Bearer error="insufficient_scope", scope="orders:write"');
    assert.equal(((await forbidden.json()) as { code: string }).code, "permission_denied");

    const allowed = await post(
      "/order.v1.OrderService/CreateOrder",
      { name: "curl" },
      `Bearer ${await mintToken({ scope: "orders:write" })}`,
    );
    assert.equal(allowed.status, 200);
  });
});

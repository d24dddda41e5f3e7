import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { Calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { HelloService } from "../../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../../gen/tutorial/helloworld/helloworld_pb.js";
import { Movie } from "../../gen/tutorial/movie/movie_pb.js";
import { OrderService as TutorialOrderService } from "../../gen/tutorial/order/order_pb.js";
import { RouteTable } from "../../server/rest/route-table.js";
import { libraryService, tableOf } from "./rest-fixture.js";

const tableFor = (...args: Parameters<typeof libraryService>) => {
  const service = libraryService(...args);
  return new RouteTable([service], tableOf(service));
};

describe("the REST route table", () => {
  test("the canonical contracts' routes, each with its method", () => {
    const services = [CalculatorService, GreeterService, MovieService, OrderService];
    const entries = new Map(services.flatMap((service) => [...tableOf(service)]));
    const routes = new RouteTable(services, entries).routes.map((route) => `${route.name} ${route.entry.method.name}`).sort();
    assert.deepEqual(routes, [
      "DELETE /v1/movies/{id} DeleteMovie",
      "DELETE /v1/orders/{id} DeleteOrder",
      "GET /v1/calculator:add Add",
      "GET /v1/calculator:divide Divide",
      "GET /v1/calculator:multiply Multiply",
      "GET /v1/calculator:squareRoot SquareRoot",
      "GET /v1/calculator:subtract Subtract",
      "GET /v1/greeter:lotsOfReplies LotsOfReplies",
      "GET /v1/greeter:sayHello SayHello",
      "GET /v1/greeter:sayHelloAgain SayHelloAgain",
      "GET /v1/movies ListMovies",
      "GET /v1/movies/{id} GetMovie",
      "GET /v1/orders ListOrders",
      "GET /v1/orders/{id} GetOrder",
      "GET /v1/orders:watch WatchOrders",
      "PATCH /v1/movies/{id} UpdateMovie",
      "PATCH /v1/orders/{id} UpdateOrder",
      "POST /v1/calculator:add Add",
      "POST /v1/calculator:divide Divide",
      "POST /v1/calculator:multiply Multiply",
      "POST /v1/calculator:squareRoot SquareRoot",
      "POST /v1/calculator:subtract Subtract",
      "POST /v1/greeter:lotsOfReplies LotsOfReplies",
      "POST /v1/greeter:sayHello SayHello",
      "POST /v1/greeter:sayHelloAgain SayHelloAgain",
      "POST /v1/movies CreateMovie",
      "POST /v1/orders CreateOrder",
    ]);
  });

  test("docs/rest.md lists every route, and no other", () => {
    const services = [CalculatorService, GreeterService, MovieService, OrderService];
    const entries = new Map(services.flatMap((service) => [...tableOf(service)]));
    const routes = new RouteTable(services, entries).routes.map(
      (route) => `${route.name} ${route.entry.service.name}.${route.entry.method.name}`,
    );
    const page = readFileSync(new URL("../../../docs/rest.md", import.meta.url), "utf8");
    const documented = [...page.matchAll(/^\| `([A-Z]+ \/\S+)` \| `(\w+\.\w+)`/gm)].map(([, route, method]) => `${route} ${method}`);
    assert.deepEqual(documented.sort(), routes.sort());
  });

  test("the tutorials' contracts have no routes: they stay as the tutorials wrote them", () => {
    const tutorials = [Calculator, HelloService, Greeter, Movie, TutorialOrderService];
    assert.equal(new RouteTable(tutorials, new Map(tutorials.flatMap((service) => [...tableOf(service)]))).routes.length, 0);
  });

  test("matching: resource names, nested path fields, additional bindings, verbs; 405 lists the methods", () => {
    const table = tableFor();
    const get = table.match("GET", "/v1/shelves/1/books/2");
    assert.equal(get.kind, "route");
    assert.equal(get.kind === "route" && get.route.entry.method.name, "GetBook");
    const list = table.match("GET", "/v1/shelves/7/books");
    assert.ok(list.kind === "route");
    assert.deepEqual(
      list.route.pathFields.map((fields) => fields.map((field) => field.name)),
      [["shelf", "id"]],
    );
    assert.equal(list.route.responseBody?.name, "books");
    const extra = table.match("GET", "/v1/books");
    assert.ok(extra.kind === "route" && extra.route.entry.method.name === "ListBooks", "an additional binding");
    const archive = table.match("POST", "/v1/shelves/1/books/2:archive");
    assert.ok(archive.kind === "route" && archive.route.entry.method.name === "ArchiveBook");
    assert.deepEqual(table.match("DELETE", "/v1/shelves/1/books/2"), { kind: "wrong-method", allowed: ["GET", "PATCH"] });
    assert.deepEqual(table.match("GET", "/v1/shelves"), { kind: "none" });
    assert.ok(table.claims("/v1/anything") && table.claims("/v1") && table.claims("/v1:batch"));
    assert.ok(
      !table.claims("/") &&
        !table.claims("/v2/books") &&
        !table.claims("/v1x/books") &&
        !table.claims("/calculator.v1.CalculatorService/Add"),
    );
  });

  test("rules the transcoder must not serve stop the server at start", () => {
    const refused = (options: Parameters<typeof libraryService>[0], reason: RegExp) => assert.throws(() => tableFor(options), reason);
    refused(
      { safe: { GetBook: false } },
      /GET \/v1\/\{name=shelves\/\*\/books\/\*\} on a method not marked idempotency_level = NO_SIDE_EFFECTS/,
    );
    refused({ rules: { GetBook: { pattern: { case: "get", value: "/v1/{title}" } } } }, /has no field "title"/);
    refused(
      { rules: { UpdateBook: { pattern: { case: "patch", value: "/v1/{book}" }, body: "*" } } },
      /must name a singular scalar or enum field/,
    );
    refused(
      { rules: { UpdateBook: { pattern: { case: "patch", value: "/v1/books" }, body: "novel" } } },
      /body "novel" is not a top-level field/,
    );
    refused({ rules: { GetBook: { pattern: { case: "get", value: "/v1/b" }, responseBody: "author" } } }, /response_body "author"/);
    refused({ rules: { GetBook: { pattern: { case: "get", value: "/v1/b" }, body: "*" } } }, /GET \/v1\/b has a body/);
    refused({ rules: { GetBook: { pattern: { case: "get", value: "/{name=**}" } } } }, /must begin with a literal segment/);
    refused({ rules: { GetBook: {} } }, /without a pattern/);
    refused({ rules: { GetBook: { pattern: { case: "get", value: "/v1/books" } } } }, /take the same requests/);
    refused(
      {
        rules: {
          ArchiveBook: {
            pattern: { case: "post", value: "/v1/{name=shelves/*/books/*}:archive" },
            additionalBindings: [
              { pattern: { case: "post", value: "/v1/x" }, additionalBindings: [{ pattern: { case: "post", value: "/v1/y" } }] },
            ],
          },
        },
      },
      /additional bindings of its own/,
    );
    refused({ streamedField: "error" }, /a streamed message has a field "error"/);
  });

  test("a custom pattern's kind is its method", () => {
    const table = tableFor({
      rules: { ArchiveBook: { pattern: { case: "custom", value: { kind: "ARCHIVE", path: "/v1/{name=shelves/*/books/*}" } } } },
    });
    const match = table.match("ARCHIVE", "/v1/shelves/1/books/2");
    assert.ok(match.kind === "route" && match.route.entry.method.name === "ArchiveBook");
  });
});

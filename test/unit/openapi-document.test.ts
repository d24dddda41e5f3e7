import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { http } from "../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { servicesOf } from "../../server/app.js";
import { type AuthConfig, loadConfig } from "../../server/config.js";
import { openDependencies } from "../../server/dependencies.js";
import { HealthRegistry } from "../../server/health/registry.js";
import { type ApiDescription, describeAccess, generatedApiDescription } from "../../server/web/api-description.js";
import { memoryLogger } from "../support/logs.js";
import { assertValidOpenApi } from "../support/openapi.js";

const generated = await generatedApiDescription();
const described: readonly DescService[] = [CalculatorService, GreeterService, MovieService, OrderService];

// Every service exactly as the server registers it.
const { logger } = memoryLogger();
const { dependencies, close } = await openDependencies(loadConfig({ DATA_DIR: "memory://" }, false), logger);
after(close);
const served = servicesOf({ dependencies, health: new HealthRegistry(), reflection: true }).map((entry) => entry.service);

type Operation = ApiDescription["paths"][string][string];

/** Every operation of the document, as "VERB /path" with the operation. */
function operations(document: ApiDescription): Array<[string, Operation]> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([verb, operation]): [string, Operation] => [`${verb.toUpperCase()} ${path}`, operation]),
  );
}

function routesOf(rule: HttpRule): string[] {
  const route = ({ pattern }: HttpRule) => {
    const path = pattern.case === "custom" ? pattern.value.path : (pattern.value ?? "");
    const verb = pattern.case === "custom" ? pattern.value.kind : (pattern.case ?? "");
    return `${verb.toUpperCase()} ${path.replace(/\{([^}=]+)=[^}]*\}/g, "{$1}")}`;
  };
  return [route(rule), ...rule.additionalBindings.map(route)];
}

const jwt = (requireForReads: boolean): AuthConfig => ({
  mode: "jwt",
  keys: { kind: "secret", secret: "x".repeat(32) },
  issuer: undefined,
  audience: [],
  maxTokenTtlMs: 3_600_000,
  requireForReads,
});

describe("the generated OpenAPI document", () => {
  test("is valid OpenAPI 3.1 (@readme/openapi-parser), without a warning", async () => {
    assert.equal(generated.openapi, "3.1.0");
    await assertValidOpenApi(generated);
  });

  test("has every google.api.http route of the four contracts, each calling its method", () => {
    const rest = operations(generated).filter(([, operation]) => operation["x-rpc-protocol"] === "rest");
    const expected = described.flatMap((service) =>
      service.methods.flatMap((method) =>
        hasOption(method, http) ? routesOf(getOption(method, http)).map((route) => `${route} ${service.typeName}.${method.name}`) : [],
      ),
    );
    assert.ok(expected.length > 0, "the contracts declare routes");
    assert.deepEqual(rest.map(([route, operation]) => `${route} ${operation["x-rpc-method"]}`).sort(), expected.sort());
  });

  test("has a Connect POST for every unary method, and a GET for those free of side effects; no stream", () => {
    const connect = operations(generated).filter(([, operation]) => operation["x-rpc-protocol"] === "connect");
    const expected = described.flatMap((service) =>
      service.methods
        .filter((method) => method.methodKind === "unary")
        .flatMap((method) => {
          const path = `/${service.typeName}/${method.name}`;
          const get = method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ? [`GET ${path}`] : [];
          return [`POST ${path}`, ...get];
        }),
    );
    assert.deepEqual(connect.map(([route]) => route).sort(), expected.sort());
  });

  test("describes messages in the proto3 JSON mapping, with the contracts' comments", () => {
    const schemas = generated.components.schemas as Record<
      string,
      { properties?: Record<string, Record<string, unknown>>; enum?: unknown }
    >;
    const order = schemas["order.v1.Order"]?.properties ?? {};
    assert.deepEqual(Object.keys(order), ["id", "name", "completed", "date", "createTime", "updateTime", "etag"], "JSON names");
    assert.equal(order.createTime?.type, "string");
    assert.equal(order.createTime?.format, "date-time", "a Timestamp is an RFC 3339 string");
    assert.equal(order.id?.description, "Server-assigned UUID.");
    assert.deepEqual(schemas["order.v1.OrderChangeType"]?.enum, [
      "ORDER_CHANGE_TYPE_UNSPECIFIED",
      "ORDER_CHANGE_TYPE_CREATED",
      "ORDER_CHANGE_TYPE_UPDATED",
      "ORDER_CHANGE_TYPE_DELETED",
    ]);
    const delay = schemas["greeter.v1.LotsOfRepliesRequest"]?.properties?.delayMs;
    assert.deepEqual([delay?.type, delay?.format, delay?.minimum], ["integer", "uint32", 0]);
    const name = schemas["greeter.v1.SayHelloRequest"]?.properties?.name;
    assert.match(String(name?.description), /^Who to greet: 1 to 10 characters\.\n\nChecked by the server .*`required`, `max_length`/s);
    assert.deepEqual(
      ((name?.["x-buf-validate-cel"] ?? []) as Array<{ id: string }>).map((rule) => rule.id),
      ["required", "max_length", "no_control_characters"],
    );
  });

  test("names a served, classified method in every operation (or the server could not describe it)", () => {
    assert.doesNotThrow(() => describeAccess(generated, served, jwt(false)));
    assert.throws(
      () =>
        describeAccess(
          generated,
          served.filter((service) => service.typeName !== "movie.v1.MovieService"),
          jwt(false),
        ),
      /calls movie\.v1\.MovieService\.\w+, which is not served or has no access rule/,
    );
  });
});

describe("the access the server adds", () => {
  const securityOf = (document: ApiDescription, route: string) => operations(document).find(([found]) => found === route)?.[1].security;

  test("with authentication off: no scheme, and no operation asks for a token", async () => {
    const document = describeAccess(generated, served, { mode: "off", explicit: false });
    assert.equal((document.components as { securitySchemes?: unknown }).securitySchemes, undefined);
    for (const [route, operation] of operations(document)) assert.deepEqual(operation.security, [], route);
    await assertValidOpenApi(document);
  });

  test("with tokens: writes need their scope from the method table, reads take a token or none", async () => {
    const document = describeAccess(generated, served, jwt(false));
    const schemes = (document.components as { securitySchemes?: Record<string, { type: string; scheme: string }> }).securitySchemes;
    assert.deepEqual([schemes?.bearer?.type, schemes?.bearer?.scheme], ["http", "bearer"]);
    assert.deepEqual(securityOf(document, "POST /v1/orders"), [{ bearer: ["orders:write"] }]);
    assert.deepEqual(securityOf(document, "POST /order.v1.OrderService/CreateOrder"), [{ bearer: ["orders:write"] }]);
    assert.deepEqual(securityOf(document, "DELETE /v1/movies/{id}"), [{ bearer: ["movies:write"] }]);
    assert.deepEqual(securityOf(document, "GET /v1/orders/{id}"), [{}, { bearer: [] }]);
    assert.deepEqual(securityOf(document, "GET /calculator.v1.CalculatorService/Add"), [{}, { bearer: [] }]);
    await assertValidOpenApi(document);
  });

  test("with AUTH_REQUIRE_FOR_READS: reads need a token of any scope", async () => {
    const document = describeAccess(generated, served, jwt(true));
    assert.deepEqual(securityOf(document, "GET /v1/movies"), [{ bearer: [] }]);
    assert.deepEqual(securityOf(document, "PATCH /v1/movies/{id}"), [{ bearer: ["movies:write"] }]);
    await assertValidOpenApi(document);
  });
});

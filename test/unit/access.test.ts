import assert from "node:assert/strict";
import { after, test } from "node:test";
import { create, createFileRegistry, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { servicesOf } from "../../server/app.js";
import { accessOf } from "../../server/auth/access.js";
import { loadConfig } from "../../server/config.js";
import { openDependencies } from "../../server/dependencies.js";
import { HealthRegistry } from "../../server/health/registry.js";
import {
  assertClassified,
  classifiedMethods,
  databaseBackedServices,
  fullName,
  type MethodPolicy,
  policyOf,
  policyProblems,
  unclassifiedMethods,
} from "../../server/policy/methods.js";
import { DescriptorIndex } from "../../server/reflection/descriptors.js";
import { memoryLogger } from "../support/logs.js";

// Every service exactly as the server registers it, reflection included.
const { logger } = memoryLogger();
const { dependencies, close } = await openDependencies(loadConfig({ DATA_DIR: "memory://" }, false), logger);
after(close);
const services: DescService[] = servicesOf({ dependencies, health: new HealthRegistry(), reflection: true }).map((entry) => entry.service);
const methods = services.flatMap((service) => service.methods);

test("every method of every registered service is classified, and the table names no other", () => {
  assert.deepEqual(unclassifiedMethods(services), []);
  assert.deepEqual([...classifiedMethods()].sort(), methods.map(fullName).sort());
});

test("exactly the Create, Update and Delete methods of movies and orders need a write scope, on both contracts", () => {
  const writes = methods.flatMap((method) => {
    const access = accessOf(method);
    return access?.kind === "write" ? [`${fullName(method)} ${access.scope}`] : [];
  });
  assert.deepEqual(writes.sort(), [
    "movie.v1.MovieService.CreateMovie movies:write",
    "movie.v1.MovieService.DeleteMovie movies:write",
    "movie.v1.MovieService.UpdateMovie movies:write",
    "order.OrderService.CreateOrder orders:write",
    "order.OrderService.DeleteOrder orders:write",
    "order.OrderService.UpdateOrder orders:write",
    "order.v1.OrderService.CreateOrder orders:write",
    "order.v1.OrderService.DeleteOrder orders:write",
    "order.v1.OrderService.UpdateOrder orders:write",
  ]);
  // A method whose name says it changes something is never a read by mistake…
  for (const method of methods) {
    if (/^(Create|Update|Delete|Set|Remove|Put|Patch|Insert|Upsert)/.test(method.name)) {
      assert.equal(accessOf(method)?.kind, "write", `${fullName(method)} looks like a change`);
    }
  }
  // …and one the contract declares free of side effects is never a write.
  for (const method of methods.filter((one) => one.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS)) {
    assert.notEqual(accessOf(method)?.kind, "write", `${fullName(method)} has no side effects`);
  }
});

test("health checks need nothing; reflection is a read", () => {
  const kinds = (typeName: string) => [
    ...new Set(methods.filter((method) => method.parent.typeName === typeName).map((method) => accessOf(method)?.kind)),
  ];
  assert.deepEqual(kinds("grpc.health.v1.Health"), ["probe"]);
  assert.deepEqual(kinds("grpc.reflection.v1.ServerReflection"), ["read"]);
  assert.deepEqual(kinds("grpc.reflection.v1alpha.ServerReflection"), ["read"]);
});

test("a service with an unclassified method stops the server, naming the method", () => {
  const proto = create(FileDescriptorProtoSchema, {
    name: "test/shop.proto",
    package: "test",
    syntax: "proto3",
    messageType: [{ name: "Empty" }],
    service: [{ name: "Shop", method: [{ name: "DropEverything", inputType: ".test.Empty", outputType: ".test.Empty" }] }],
  });
  const shop = createFileRegistry(proto, () => undefined).getService("test.Shop");
  assert.ok(shop);
  assert.deepEqual(unclassifiedMethods([shop]), ["test.Shop.DropEverything"]);
  assert.equal(accessOf(shop.methods[0] as NonNullable<(typeof shop.methods)[0]>), undefined);
  assert.throws(
    () => assertClassified([...services, shop]),
    /^Error: no access rule for test\.Shop\.DropEverything: classify every method/,
  );
  assert.doesNotThrow(() => assertClassified(services));
});

test("reflection can describe the RetryInfo detail of RESOURCE_EXHAUSTED, and its Duration", () => {
  const index = new DescriptorIndex([file_google_rpc_error_details]);
  assert.equal(index.fileContainingSymbol("google.rpc.RetryInfo")?.proto.name, "google/rpc/error_details.proto");
  assert.equal(index.fileContainingSymbol("google.protobuf.Duration")?.proto.name, "google/protobuf/duration.proto");
});

/** A one-method service `test.Lab.Run`, declared with `idempotency`. */
function labService(idempotency: MethodOptions_IdempotencyLevel) {
  const proto = create(FileDescriptorProtoSchema, {
    name: "test/lab.proto",
    package: "test",
    syntax: "proto3",
    messageType: [{ name: "Empty" }],
    service: [
      {
        name: "Lab",
        method: [{ name: "Run", inputType: ".test.Empty", outputType: ".test.Empty", options: { idempotencyLevel: idempotency } }],
      },
    ],
  });
  const lab = createFileRegistry(proto, () => undefined).getService("test.Lab");
  assert.ok(lab);
  return lab;
}

test("each call spends the budget its access says: writes for changes, reads for the rest, nothing for health checks", () => {
  for (const method of methods) {
    const policy = policyOf(method);
    const expected = { write: "writes", read: "reads", probe: undefined }[policy?.access.kind ?? "probe"];
    assert.equal(policy?.budget, expected, fullName(method));
  }
});

test("only the canonical Calculator and Greeter's unary greetings may be cached for a year", () => {
  const immutable = methods.filter((method) => policyOf(method)?.immutable === true).map(fullName);
  assert.deepEqual(immutable.sort(), [
    "calculator.v1.CalculatorService.Add",
    "calculator.v1.CalculatorService.Divide",
    "calculator.v1.CalculatorService.Multiply",
    "calculator.v1.CalculatorService.SquareRoot",
    "calculator.v1.CalculatorService.Subtract",
    "greeter.v1.GreeterService.SayHello",
    "greeter.v1.GreeterService.SayHelloAgain",
  ]);
});

test("the services of movies and orders, on both contracts, follow the database's health; no other does", () => {
  assert.deepEqual(databaseBackedServices().sort(), ["Movie", "movie.v1.MovieService", "order.OrderService", "order.v1.OrderService"]);
});

test("the registered services' policies agree with what their contracts declare", () => {
  assert.deepEqual(policyProblems(services), []);
});

test("a write the contract declares free of side effects, or an immutable answer GET cannot reach, stops the server", () => {
  const lookup = (policy: MethodPolicy) => () => policy;
  const write: MethodPolicy = { access: { kind: "write", scope: "orders:write" }, budget: "writes", database: true, immutable: false };
  const pure: MethodPolicy = { access: { kind: "read" }, budget: "reads", database: false, immutable: true };
  const sideEffectFree = labService(MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS);
  const unknown = labService(MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN);
  assert.deepEqual(policyProblems([sideEffectFree], lookup(write)), [
    "test.Lab.Run is declared free of side effects (idempotency_level) but classified as a write",
  ]);
  assert.deepEqual(policyProblems([unknown], lookup(pure)), [
    "test.Lab.Run is classified immutable but cannot be called with GET (a unary method with NO_SIDE_EFFECTS)",
  ]);
  assert.deepEqual(policyProblems([sideEffectFree], lookup(pure)), []);
  assert.deepEqual(policyProblems([unknown], lookup(write)), []);
});

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { create, createFileRegistry, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { servicesOf } from "../../server/app.js";
import { accessOf, accessTable, assertClassified, fullName, unclassifiedMethods } from "../../server/auth/access.js";
import { loadConfig } from "../../server/config.js";
import { openDependencies } from "../../server/dependencies.js";
import { HealthRegistry } from "../../server/health/registry.js";
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
  assert.deepEqual([...accessTable.keys()].sort(), methods.map(fullName).sort());
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

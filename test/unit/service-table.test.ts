import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createConnectRouter } from "@connectrpc/connect";
import { servicesOf } from "../../server/app.js";
import { loadConfig } from "../../server/config.js";
import { openDependencies } from "../../server/dependencies.js";
import { methodTable } from "../../server/fast-path/methods.js";
import { HealthRegistry } from "../../server/health/registry.js";
import { memoryLogger } from "../support/logs.js";

const { logger } = memoryLogger();
const { dependencies, close } = await openDependencies(loadConfig({ DATA_DIR: "memory://" }, false), logger);
after(close);
const health = new HealthRegistry();
const services = servicesOf({ dependencies, health, reflection: true });
const router = createConnectRouter();
for (const entry of services) entry.register(router);
const options = { binaryOptions: {}, jsonOptions: {}, readMaxBytes: 1024, compressMinBytes: 0 };

test("each service is registered once: one handler per method, in the table's order", () => {
  const names = services.map((entry) => entry.service.typeName);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(
    router.handlers.map((handler) => handler.requestPath),
    services.flatMap((entry) => entry.service.methods.map((method) => `/${entry.service.typeName}/${method.name}`)),
  );
  // Reflection comes last, and health knows every service by name.
  assert.deepEqual(names.slice(-2), ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);
  for (const name of names) assert.notEqual(health.get(name), undefined, name);
});

test("the fast path serves every unary and server-streaming method from the same table, with connect-node's handler beside it", () => {
  const table = methodTable(router.handlers, services, options);
  const expected = router.handlers
    .filter((handler) => handler.method.methodKind === "unary" || handler.method.methodKind === "server_streaming")
    .map((handler) => handler.requestPath);
  assert.deepEqual([...table.keys()], expected);
  for (const handler of router.handlers) {
    const entry = table.get(handler.requestPath);
    if (entry !== undefined) assert.equal(entry.handler, handler);
  }
});

test("the fast path calls the implementation the service table holds", async () => {
  const table = methodTable(router.handlers, services, options);
  const add = table.get("/calculator.v1.CalculatorService/Add");
  assert.ok(add);
  const answer = (await add.impl({ a: 2, b: 3 }, {})) as { result: number };
  assert.equal(answer.result, 5);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { type Dependency, followDependency, HealthRegistry, ServingStatus } from "../../server/health/registry.js";

test("the server is SERVING from the start; services are SERVING once added; others are unknown", () => {
  const registry = new HealthRegistry();
  assert.equal(registry.get(""), ServingStatus.SERVING);
  assert.equal(registry.get("calculator.v1.CalculatorService"), undefined);
  registry.add(["calculator.v1.CalculatorService", "greeter.v1.GreeterService"]);
  assert.equal(registry.get("calculator.v1.CalculatorService"), ServingStatus.SERVING);
  assert.deepEqual([...registry.entries().keys()], ["", "calculator.v1.CalculatorService", "greeter.v1.GreeterService"]);
});

test("add leaves a status set earlier alone", () => {
  const registry = new HealthRegistry();
  registry.set("movie.v1.MovieService", ServingStatus.NOT_SERVING);
  registry.add(["movie.v1.MovieService"]);
  assert.equal(registry.get("movie.v1.MovieService"), ServingStatus.NOT_SERVING);
});

test("readiness names what is not serving, and shutting down trumps everything", () => {
  const registry = new HealthRegistry();
  registry.add(["movie.v1.MovieService", "order.v1.OrderService"]);
  assert.deepEqual(registry.readiness(), { ready: true });
  registry.set("movie.v1.MovieService", ServingStatus.NOT_SERVING);
  registry.set("order.v1.OrderService", ServingStatus.NOT_SERVING);
  assert.deepEqual(registry.readiness(), { ready: false, reason: "not serving: movie.v1.MovieService, order.v1.OrderService" });
  registry.shutdown();
  assert.deepEqual(registry.readiness(), { ready: false, reason: "shutting down" });
});

test("after shutdown everything stays NOT_SERVING, whatever is set later", () => {
  const registry = new HealthRegistry();
  registry.add(["greeter.v1.GreeterService"]);
  registry.shutdown();
  registry.set("greeter.v1.GreeterService", ServingStatus.SERVING);
  registry.add(["late.Service"]);
  for (const status of registry.entries().values()) assert.equal(status, ServingStatus.NOT_SERVING);
});

test("watch yields the current status, then each change once, until aborted", async () => {
  const registry = new HealthRegistry();
  registry.add(["greeter.v1.GreeterService"]);
  const controller = new AbortController();
  const seen: ServingStatus[] = [];
  const watching = (async () => {
    for await (const status of registry.watch("greeter.v1.GreeterService", controller.signal)) {
      seen.push(status);
      if (seen.length === 1) {
        // Changes made while the watcher is busy are not lost; repeats are not reported.
        registry.set("greeter.v1.GreeterService", ServingStatus.NOT_SERVING);
        registry.set("other", ServingStatus.SERVING);
      }
      if (seen.length === 2) registry.set("greeter.v1.GreeterService", ServingStatus.SERVING);
      if (seen.length === 3) controller.abort(new Error("client went away"));
    }
  })();
  await assert.rejects(watching, /client went away/);
  assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
});

test("watching an unknown service reports SERVICE_UNKNOWN, then its status once it is known", async () => {
  const registry = new HealthRegistry();
  const controller = new AbortController();
  const watch = registry.watch("movie.v1.MovieService", controller.signal);
  assert.deepEqual(await watch.next(), { done: false, value: ServingStatus.SERVICE_UNKNOWN });
  const next = watch.next();
  registry.add(["movie.v1.MovieService"]);
  assert.deepEqual(await next, { done: false, value: ServingStatus.SERVING });
  const last = watch.next();
  registry.shutdown();
  assert.deepEqual(await last, { done: false, value: ServingStatus.NOT_SERVING });
  controller.abort();
  await assert.rejects(watch.next());
});

/** A dependency that reports as the database layer does. */
class Switch implements Dependency {
  private readonly listeners = new Set<(reachable: boolean) => void>();
  constructor(public reachable: boolean) {}
  flip(reachable: boolean): void {
    this.reachable = reachable;
    for (const listener of this.listeners) listener(reachable);
  }
  onChange(listener: (reachable: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

test("followDependency keeps the dependent services in step with the dependency", () => {
  const registry = new HealthRegistry();
  registry.add(["calculator.v1.CalculatorService", "movie.v1.MovieService", "Movie"]);
  const database = new Switch(false);
  const stop = followDependency(registry, database, ["movie.v1.MovieService", "Movie"]);
  assert.equal(registry.get("movie.v1.MovieService"), ServingStatus.NOT_SERVING);
  assert.equal(registry.get("Movie"), ServingStatus.NOT_SERVING);
  assert.equal(registry.get("calculator.v1.CalculatorService"), ServingStatus.SERVING);
  assert.equal(registry.readiness().ready, false);
  database.flip(true);
  assert.equal(registry.get("movie.v1.MovieService"), ServingStatus.SERVING);
  assert.equal(registry.readiness().ready, true);
  stop();
  database.flip(false);
  assert.equal(registry.get("movie.v1.MovieService"), ServingStatus.SERVING, "no longer followed");
});

test("watchers that go away leave nothing behind", async () => {
  const registry = new HealthRegistry();
  for (let i = 0; i < 100; i++) {
    const controller = new AbortController();
    const watch = registry.watch("", controller.signal);
    await watch.next();
    const waiting = watch.next();
    controller.abort();
    await assert.rejects(waiting);
  }
  assert.equal((registry as unknown as { waiting: Set<unknown> }).waiting.size, 0);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { Calculator } from "../../gen/tutorial/calculator/calculator_pb.js";
import { metricsInterceptor } from "../../server/interceptors/metrics.js";
import { ServerMetrics } from "../../server/observability/metrics.js";
import { parseExposition, total } from "../support/metrics.js";

// An answer that cannot be serialized (a float32 field given 1e300, a uint32
// given -1) fails the call as INTERNAL, and the metrics must say so and end
// the call: otherwise the calls-in-flight gauge keeps it for ever.
test("answers that cannot be serialized end their records as INTERNAL", async () => {
  const metrics = new ServerMetrics();
  const transport = createRouterTransport(
    (router) => {
      router.service(Calculator, { squareRoot: () => ({ value: 1e300 }) });
      router.service(GreeterService, {
        sayHello: (req) => ({ message: `Hello, ${req.name}` }),
        lotsOfGreetings: async (requests) => {
          for await (const _ of requests);
          return { message: "Hello!", count: -1 };
        },
      });
    },
    { router: { interceptors: [metricsInterceptor(metrics)] } },
  );
  await assert.rejects(createClient(Calculator, transport).squareRoot({ value: 4 }));
  const greeter = createClient(GreeterService, transport);
  await assert.rejects(
    greeter.lotsOfGreetings(
      (async function* () {
        yield { name: "Ada" };
      })(),
    ),
  );
  assert.equal((await greeter.sayHello({ name: "Ada" })).message, "Hello, Ada");

  const samples = parseExposition(await metrics.registry.metrics());
  const handled = (method: string, code: string) =>
    total(samples, "rpc_server_handled_total", { rpc_method: method, rpc_status_code: code });
  assert.equal(total(samples, "rpc_server_calls_in_flight"), 0, "no call stays in flight");
  assert.equal(handled("Calculator/SquareRoot", "INTERNAL"), 1);
  assert.equal(handled("greeter.v1.GreeterService/LotsOfGreetings", "INTERNAL"), 1);
  assert.equal(handled("greeter.v1.GreeterService/SayHello", "OK"), 1);
});

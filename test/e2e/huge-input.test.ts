import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, describe, test } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { MovieService } from "../../gen/movie/v1/movie_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { OrderService as TutorialOrderService } from "../../gen/tutorial/order/order_pb.js";
import { rejection } from "../support/assert.js";
import { envelope, grpcStatus, h2Request } from "../support/raw.js";
import { protocolCases, startTestServer } from "../support/server.js";

// Regression: one request with a 200 KB name (exactly as curl sends it) used
// to block the event loop for 99.8 s while the greeter counted its graphemes,
// and every other client, /healthz included, waited. Every text field is now
// refused by its raw length before any work on it.

const server = await startTestServer();
const protocols = protocolCases(server.baseUrl);
const session = http2.connect(server.baseUrl);
after(async () => {
  session.close();
  protocols.close();
  await server.shutdown();
});

/** Well over what refusing takes, well under what counting a few megabytes took. */
const prompt = 1_000;
/** READ_MAX_BYTES (4 MiB) less the JSON around the name. */
const largestName = 4 * 1024 * 1024 - '{"name":""}'.length;

interface Timed<T> {
  readonly value: T;
  readonly ms: number;
}

async function timed<T>(run: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/** POST a JSON body as `curl -H 'content-type: application/json' -d ...` does. */
async function postJson(path: string, body: string): Promise<{ status: number; requestId: string | null; json: ConnectErrorBody }> {
  const response = await fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
  return { status: response.status, requestId: response.headers.get("x-request-id"), json: (await response.json()) as ConnectErrorBody };
}

interface ConnectErrorBody {
  code?: string;
  message?: string;
  details?: Array<{ type: string; debug?: { fieldViolations?: Array<{ field: string; reason: string }> } }>;
}

/** Another client's calls, each timed: /healthz, and SayHello over gRPC on its own HTTP/2 connection. */
function otherClients(): Promise<number[]> {
  return Promise.all([
    timed(async () => assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200)).then(({ ms }) => ms),
    timed(async () => {
      const ada = Buffer.from([0x0a, 0x03, 0x41, 0x64, 0x61]);
      const answer = await h2Request(
        session,
        { ":path": "/greeter.v1.GreeterService/SayHello", "content-type": "application/grpc", te: "trailers" },
        envelope(ada),
      );
      assert.equal(grpcStatus(answer).code, 0);
    }).then(({ ms }) => ms),
  ]);
}

describe("a huge name is refused at once, and nobody else waits", () => {
  const sizes: Array<[string, number]> = [
    ["200 KB", 200_000],
    ["1 MB", 1_000_000],
    ["4 MiB (the most READ_MAX_BYTES lets through)", largestName],
  ];
  for (const path of ["/greeter.v1.GreeterService/SayHello", "/helloworld.Greeter/SayHello"]) {
    for (const [label, size] of sizes) {
      test(`${path}, a ${label} name`, async () => {
        const body = JSON.stringify({ name: "x".repeat(size) });
        const [refused, others] = await Promise.all([timed(() => postJson(path, body)), otherClients()]);

        assert.equal(refused.value.status, 400);
        const { code, message, details } = refused.value.json;
        assert.equal(code, "invalid_argument");
        assert.equal(message, `name cannot be more than 10 characters, got ${size} UTF-16 code units`);
        assert.deepEqual(
          details?.map((detail) => [detail.type, detail.debug?.fieldViolations]),
          [["google.rpc.BadRequest", [{ field: "name", description: message, reason: "MAX_LENGTH" }]]],
        );
        assert.ok(refused.ms < prompt, `answered after ${refused.ms.toFixed(0)} ms`);
        for (const ms of others) assert.ok(ms < prompt, `another client waited ${ms.toFixed(0)} ms`);

        const logged = server.logs.filter((record) => record.requestId === refused.value.requestId);
        assert.equal(logged.length, 1);
        assert.equal(logged[0]?.code, "invalid_argument");
      });
    }
  }

  test("every protocol, unary and streaming, refuses a 1 MB name within a second", async () => {
    const huge = "x".repeat(1_000_000);
    for (const { name, get, transport } of protocols.cases) {
      if (get) continue; // a megabyte does not fit in a URL
      const greeter = createClient(GreeterService, transport);
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["SayHello", () => greeter.sayHello({ name: huge })],
        [
          "LotsOfReplies",
          async () => {
            for await (const _ of greeter.lotsOfReplies({ name: huge })) assert.fail("no greeting for a huge name");
          },
        ],
        [
          "LotsOfGreetings",
          () =>
            greeter.lotsOfGreetings(
              (async function* () {
                yield { name: "Ada" };
                yield { name: huge };
              })(),
            ),
        ],
      ];
      for (const [method, call] of calls) {
        const { value: error, ms } = await timed(() => rejection(call()));
        assert.equal(error.code, Code.InvalidArgument, `${name} ${method}`);
        assert.match(error.rawMessage, /^name cannot be more than 10 characters, got 1000000 UTF-16 code units$/, `${name} ${method}`);
        assert.ok(ms < prompt, `${name} ${method} took ${ms.toFixed(0)} ms`);
      }
    }
  });
});

describe("a body whose parsing alone would take long is refused before it is parsed", () => {
  const fourMiB = 4 * 1024 * 1024;
  // JSON.parse spends over a second on 4 MiB of nested arrays and most of one
  // on 4 MiB of distinct keys; protobuf-es over two on 4 MiB of unknown
  // binary fields, when it keeps them.
  const nested = `{"name":${"[".repeat(fourMiB / 2 - 8)}${"]".repeat(fourMiB / 2 - 8)}}`;
  const keys = `{${Array.from({ length: fourMiB / 12 }, (_, i) => `"k${i.toString(36)}":1`).join(",")}}`;

  for (const [shape, body, message] of [
    ["nested arrays", nested, /^the request JSON nests deeper than 32 levels/],
    ["distinct keys", keys, /^the request JSON has more than 10000 strings and punctuation marks/],
  ] as const) {
    test(`Connect JSON: 4 MiB of ${shape}`, async () => {
      const [refused, others] = await Promise.all([timed(() => postJson("/greeter.v1.GreeterService/SayHello", body)), otherClients()]);
      assert.equal(refused.value.status, 400);
      assert.equal(refused.value.json.code, "invalid_argument");
      assert.match(refused.value.json.message ?? "", message);
      assert.ok(refused.ms < prompt, `answered after ${refused.ms.toFixed(0)} ms`);
      for (const ms of others) assert.ok(ms < prompt, `another client waited ${ms.toFixed(0)} ms`);
    });
  }

  test("the same in every protocol that carries JSON: gRPC, gRPC-Web, Connect streams, Connect GET", async () => {
    const deep = Buffer.from(`{"name":${"[".repeat(40)}${"]".repeat(40)}}`);
    for (const contentType of ["application/grpc+json", "application/grpc-web+json"]) {
      const answer = await h2Request(
        session,
        { ":path": "/greeter.v1.GreeterService/SayHello", "content-type": contentType, te: "trailers" },
        envelope(deep),
      );
      const trailer = answer.body.length > 0 ? answer.body.subarray(5).toString("utf8") : "";
      const status = contentType.includes("web") ? Number(/grpc-status: (\d+)/.exec(trailer)?.[1]) : grpcStatus(answer).code;
      assert.equal(status, Code.InvalidArgument, contentType);
    }
    const stream = await fetch(`${server.baseUrl}/greeter.v1.GreeterService/LotsOfGreetings`, {
      method: "POST",
      headers: { "content-type": "application/connect+json" },
      body: envelope(deep),
    });
    const end = Buffer.from(await stream.arrayBuffer())
      .subarray(5)
      .toString("utf8");
    assert.match(end, /"code":"invalid_argument","message":"the request JSON nests deeper than 32 levels/);
    const get = await fetch(
      `${server.baseUrl}/greeter.v1.GreeterService/SayHello?encoding=json&message=${encodeURIComponent(deep.toString())}`,
    );
    assert.equal(get.status, 400);
    assert.match(((await get.json()) as ConnectErrorBody).message ?? "", /nests deeper than 32 levels/);
  });

  test("JSON that is not UTF-8 is refused, not decoded to U+FFFD", async () => {
    const response = await fetch(`${server.baseUrl}/greeter.v1.GreeterService/SayHello`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.from([...Buffer.from('{"name":"'), 0xff, 0xfe, ...Buffer.from('"}')]),
    });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { code: "invalid_argument", message: "the request JSON is not valid UTF-8" });
  });

  test("binary: 4 MiB of unknown fields are skipped, not kept", async () => {
    const flood = Buffer.alloc(fourMiB);
    for (let i = 0; i < flood.length; i += 2) flood.set([0x10, 0x01], i); // field 2, varint 1
    const [refused, others] = await Promise.all([
      timed(async () => {
        const response = await fetch(`${server.baseUrl}/greeter.v1.GreeterService/SayHello`, {
          method: "POST",
          headers: { "content-type": "application/proto" },
          body: flood,
        });
        return { status: response.status, json: (await response.json()) as ConnectErrorBody };
      }),
      otherClients(),
    ]);
    assert.equal(refused.value.status, 400);
    assert.equal(refused.value.json.message, "name must not be empty");
    assert.ok(refused.ms < prompt, `answered after ${refused.ms.toFixed(0)} ms`);
    for (const ms of others) assert.ok(ms < prompt, `another client waited ${ms.toFixed(0)} ms`);
  });
});

describe("names with control characters are refused, not echoed", () => {
  for (const path of ["/greeter.v1.GreeterService/SayHello", "/helloworld.Greeter/SayHello", "/hello.HelloService/SayHello"]) {
    test(path, async () => {
      for (const name of ["a\nb\u001b[31mX", "tab\tbed", "nul\u0000"]) {
        const answer = await postJson(path, JSON.stringify({ name }));
        assert.equal(answer.status, 400, JSON.stringify(name));
        assert.equal(answer.json.code, "invalid_argument");
        assert.equal(answer.json.message, "name must not contain control characters");
        assert.equal(answer.json.details?.[0]?.debug?.fieldViolations?.[0]?.reason, "NO_CONTROL_CHARACTERS");
      }
    });
  }
});

describe("every other text field is bounded the same way", () => {
  const huge = "x".repeat(1_000_000);
  const transport = protocols.cases[0]?.transport ?? assert.fail("no gRPC transport");
  const movies = createClient(MovieService, transport);
  const orders = createClient(OrderService, transport);
  const tutorialOrders = createClient(TutorialOrderService, transport);
  const health = createClient(Health, transport);

  const cases: Array<[string, () => Promise<unknown>, Code, RegExp]> = [
    [
      "movie title",
      () => movies.createMovie({ title: huge, director: "Someone", rating: 5 }),
      Code.InvalidArgument,
      /^title cannot be more than 200 characters, got 1000000 UTF-16 code units$/,
    ],
    [
      "movie director",
      () => movies.createMovie({ title: "Some title", director: huge, rating: 5 }),
      Code.InvalidArgument,
      /^director cannot be more than 200/,
    ],
    ["movie id", () => movies.getMovie({ id: huge }), Code.InvalidArgument, /^id must be 1 to 100 letters, .* got "x{40}…"$/],
    [
      "ListMovies title_contains",
      async () => {
        for await (const _ of movies.listMovies({ titleContains: huge })) assert.fail("no movie for a huge filter");
      },
      Code.InvalidArgument,
      /^title_contains cannot be more than 200 characters/,
    ],
    [
      "ListMovies director_contains",
      async () => {
        for await (const _ of movies.listMovies({ directorContains: huge })) assert.fail("no movie for a huge filter");
      },
      Code.InvalidArgument,
      /^director_contains cannot be more than 200 characters/,
    ],
    ["order name", () => orders.createOrder({ name: huge }), Code.InvalidArgument, /^name cannot be more than 200 characters/],
    [
      "idempotency key",
      () => orders.createOrder({ name: "Tea", idempotencyKey: huge }),
      Code.InvalidArgument,
      /^idempotency_key cannot be more than 200/,
    ],
    ["order id", () => orders.getOrder({ id: huge }), Code.InvalidArgument, /^id must be a UUID, got "x{40}…"$/],
    [
      "etag",
      () => orders.updateOrder({ id: "00000000-0000-4000-8000-000000000000", completed: true, etag: huge }),
      Code.InvalidArgument,
      /^etag "x{40}…" is not one this server issued/,
    ],
    ["page token", () => orders.listOrders({ pageToken: huge }), Code.InvalidArgument, /^page_token is not valid/],
    [
      "tutorial order date",
      () => tutorialOrders.createOrder({ name: "Tea", date: huge }),
      Code.InvalidArgument,
      /^date must be an ISO 8601 date .* got "x{40}…"$/,
    ],
    ["health service name", () => health.check({ service: huge }), Code.NotFound, /^unknown service "x{200}…"/],
  ];
  for (const [field, call, code, message] of cases) {
    test(field, async () => {
      const { value: error, ms } = await timed(() => rejection(call()));
      assert.equal(error.code, code);
      assert.match(error.rawMessage, message);
      assert.ok(error.rawMessage.length < 400, "the message quotes only the start of the value");
      assert.ok(ms < prompt, `took ${ms.toFixed(0)} ms`);
    });
  }

  test("an x-request-id too long to keep is replaced, not echoed", async () => {
    const response = await fetch(`${server.baseUrl}/greeter.v1.GreeterService/SayHello`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "r".repeat(8_000) },
      body: '{"name":"Ada"}',
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});

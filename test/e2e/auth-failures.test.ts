import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { OrderService } from "../../gen/order/v1/order_pb.js";
import { rejection } from "../support/assert.js";
import { type EngineCase, postgresCase, postgresSkipReason } from "../support/database.js";
import { type ServerProcess, spawnServer } from "../support/process.js";
import { protocolCases, startTestServer } from "../support/server.js";
import { describeUnless } from "../support/skip.js";
import { authEnv, mintToken } from "../support/tokens.js";

// Guessing tokens must cost the guesser: every refused credential is charged
// to the client address, and an address over its budget is refused with
// RESOURCE_EXHAUSTED like any other spent budget.

const withAuthorization = (header: string) => ({ headers: { authorization: header } });

/** Refused credentials of several kinds, taken in turn. */
async function badHeaders(): Promise<string[]> {
  return [
    `Bearer ${await mintToken({ scope: "orders:write", expiresIn: -600 })}`,
    `Bearer ${await mintToken({ scope: "orders:write", secret: "another secret, just as long as the real one" })}`,
    "Bearer garbage",
    "Basic dXNlcjpwYXNzd29yZA==",
  ];
}

/** The RetryInfo delay of a RESOURCE_EXHAUSTED error, in milliseconds. */
function retryDelayMs(error: ConnectError): number {
  assert.equal(error.code, Code.ResourceExhausted, error.message);
  const [info] = error.findDetails(RetryInfoSchema);
  assert.ok(info?.retryDelay, "a google.rpc.RetryInfo detail with a retry delay");
  return durationMs(info.retryDelay);
}

const spentMessage = (budget: number) =>
  new RegExp(`^too many failed authentications from this address: at most ${budget} per 60 s; retry in \\d+ s$`);

describe("failed authentications are charged to the client address", async () => {
  // Call budgets off: the failure budget stands on its own. Loopback on both
  // IP versions, so a second client address is at hand.
  const server = await startTestServer({
    ...authEnv,
    HOST: "127.0.0.1,::1",
    RATE_LIMIT_AUTH_FAILURES: "10",
    RATE_LIMIT_WINDOW_MS: "60000",
    RATE_LIMIT_WRITES: "0",
    RATE_LIMIT_READS: "0",
  });
  const protocols = protocolCases(server.baseUrl);
  after(async () => {
    protocols.close();
    await server.shutdown();
  });

  test("120 calls with bad credentials on every protocol: 10 are told why, the other 110 get RESOURCE_EXHAUSTED with RetryInfo", async () => {
    const headers = await badHeaders();
    const good = withAuthorization(`Bearer ${await mintToken({ sub: "alice", scope: "orders:write" })}`);
    const codes: Code[] = [];
    for (let call = 0; call < 120; call++) {
      const { name, transport } = protocols.cases[call % protocols.cases.length] ?? assert.fail();
      const options = withAuthorization(headers[call % headers.length] ?? "");
      const attempt =
        call % 2 === 0
          ? createClient(OrderService, transport).createOrder({ name: "Guess" }, options)
          : createClient(CalculatorService, transport).squareRoot({ number: 4 }, options);
      const error = await rejection(attempt);
      codes.push(error.code);
      if (error.code === Code.ResourceExhausted) {
        const delay = retryDelayMs(error);
        assert.ok(delay > 0 && delay <= 60_000, `${name}: retry within the window, got ${delay} ms`);
        assert.match(error.rawMessage, spentMessage(10), name);
      } else {
        assert.equal(error.code, Code.Unauthenticated, `${name}: ${error.message}`);
      }
      // A success in between gives nothing back.
      if (call === 4) assert.ok((await createClient(OrderService, transport).createOrder({ name: "Real" }, good)).order?.id);
    }
    assert.deepEqual(codes, [...Array<Code>(10).fill(Code.Unauthenticated), ...Array<Code>(110).fill(Code.ResourceExhausted)]);

    const refused = server.logs.filter((record) => record.code === "resource_exhausted");
    assert.equal(refused.length, 110, "a log line for each refusal");
    assert.ok(
      refused.every((record) => record.client === "127.0.0.1"),
      "the log names the address",
    );
    if (server.fastPath !== undefined) {
      const { grpc, connect } = server.fastPath;
      assert.ok(grpc > 0 && connect > 0, "the fast path answered some of them");
    }
  });

  test("over budget, even a good token from that address is refused before it is checked; anonymous calls are not", async () => {
    const good = withAuthorization(`Bearer ${await mintToken({ sub: "alice", scope: "orders:write" })}`);
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const error = await rejection(orders.createOrder({ name: "Real" }, good));
    retryDelayMs(error);
    assert.match(error.rawMessage, spentMessage(10));
    const calculator = createClient(CalculatorService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    assert.equal((await calculator.squareRoot({ number: 9 })).result, 3, "no credentials, nothing guessed: served");
  });

  test("a good token from another address still works", async () => {
    const good = withAuthorization(`Bearer ${await mintToken({ sub: "bob", scope: "orders:write" })}`);
    // HTTP/1.1: Node's HTTP/2 client writes an IPv6 :authority without its brackets.
    const elsewhere = createClient(OrderService, createConnectTransport({ baseUrl: `http://[::1]:${server.port}`, httpVersion: "1.1" }));
    assert.ok((await elsewhere.createOrder({ name: "From ::1" }, good)).order?.id);
    const bad = await rejection(elsewhere.createOrder({ name: "Guess" }, withAuthorization("Bearer garbage")));
    assert.equal(bad.code, Code.Unauthenticated, "its own budget is untouched");
  });

  test("over plain HTTP: 429 with Retry-After", async () => {
    const response = await fetch(`${server.baseUrl}/calculator.v1.CalculatorService/SquareRoot`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer garbage" },
      body: JSON.stringify({ number: 4 }),
    });
    assert.equal(response.status, 429);
    const retryAfter = Number(response.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
    const body = (await response.json()) as { code: string; details?: Array<{ type: string }> };
    assert.equal(body.code, "resource_exhausted");
    assert.equal(body.details?.[0]?.type, "google.rpc.RetryInfo");
  });
});

describe("failed authentications on connect-node's path (FAST_PATH=off) and on streams", async () => {
  const server = await startTestServer({ ...authEnv, FAST_PATH: "off", RATE_LIMIT_AUTH_FAILURES: "3", RATE_LIMIT_WINDOW_MS: "60000" });
  const protocols = protocolCases(server.baseUrl);
  after(async () => {
    protocols.close();
    await server.shutdown();
  });

  test("three refusals, then RESOURCE_EXHAUSTED for unary calls and streams alike", async () => {
    const [grpc] = protocols.cases;
    assert.ok(grpc);
    const greeter = createClient(GreeterService, grpc.transport);
    const bad = withAuthorization("Bearer garbage");
    for (let call = 0; call < 3; call++) {
      assert.equal((await rejection(greeter.sayHello({ name: "Mallory" }, bad))).code, Code.Unauthenticated);
    }
    assert.match((await rejection(greeter.sayHello({ name: "Mallory" }, bad))).rawMessage, spentMessage(3));
    const stream = async () => {
      for await (const _ of greeter.lotsOfReplies({ name: "Mallory" }, bad));
    };
    retryDelayMs(await rejection(stream()));
    async function* names() {
      yield { name: "Mallory" };
    }
    retryDelayMs(await rejection(greeter.lotsOfGreetings(names(), bad)));
  });
});

test("a token that lives 200 years is refused, however well signed", async () => {
  const server = await startTestServer(authEnv);
  try {
    const token = await mintToken({ scope: "orders:write", expiresIn: 200 * 365.25 * 86_400 });
    const response = await fetch(`${server.baseUrl}/order.v1.OrderService/CreateOrder`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: "Forever" }),
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, "unauthenticated");
    assert.equal(
      body.message,
      "the bearer token lives longer than this server accepts (200 years, at most 24 h): ask for a shorter-lived one",
    );
    const day = await mintToken({ scope: "orders:write", expiresIn: 24 * 3_600 });
    const orders = createClient(OrderService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    assert.ok((await orders.createOrder({ name: "A day" }, withAuthorization(`Bearer ${day}`))).order?.id, "24 h is the default maximum");
  } finally {
    await server.shutdown();
  }
});

describeUnless(postgresSkipReason, "failed authentications shared by two replicas on one PostgreSQL", () => {
  let database: EngineCase | undefined;
  const replicas: ServerProcess[] = [];
  after(async () => {
    for (const replica of replicas) await replica.stop();
    await database?.cleanup();
  });

  test("an address's failures are one budget whichever replica answers", async () => {
    database = await postgresCase();
    const env = { ...database.env, ...authEnv, RATE_LIMIT_AUTH_FAILURES: "4", RATE_LIMIT_WINDOW_MS: "60000" };
    replicas.push(spawnServer(env), spawnServer(env));
    const ports = await Promise.all(replicas.map((replica) => replica.serving()));
    const [a, b] = [
      createClient(CalculatorService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${ports[0]}` })),
      createClient(CalculatorService, createConnectTransport({ baseUrl: `http://127.0.0.1:${ports[1]}`, httpVersion: "1.1" })),
    ];
    const bad = withAuthorization("Bearer garbage");
    for (const replica of [a, b, a, b]) {
      assert.equal((await rejection(replica.squareRoot({ number: 4 }, bad))).code, Code.Unauthenticated);
    }
    for (const replica of [a, b]) {
      const error = await rejection(replica.squareRoot({ number: 4 }, bad));
      assert.match(error.rawMessage, spentMessage(4));
      retryDelayMs(error);
    }

    const client = new pg.Client({ connectionString: database.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ key: string; points: number }>("select key, points from rate_limits");
      assert.deepEqual(rows, [{ key: "authFailures:addr:127.0.0.1", points: 6 }]);
    } finally {
      await client.end();
    }
  });
});

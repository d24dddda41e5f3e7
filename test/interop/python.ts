import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { type CallCounter, repoRoot, type ServerProcess } from "./server-process.js";

const run = promisify(execFile);
/** Debian's interpreter, which python3-grpcio and python3-grpc-tools install into (not a pyenv one first on PATH). */
const python = "/usr/bin/python3";
const tutorialProtos = join(repoRoot, "proto/tutorial");

async function grpcioMissing(): Promise<string | undefined> {
  try {
    await run(python, ["-c", "import grpc, grpc_tools"]);
    return undefined;
  } catch {
    return `${python} cannot import grpc and grpc_tools: install python3-grpcio and python3-grpc-tools (apt-get install python3-grpcio python3-grpc-tools; .ci/run does)`;
  }
}

interface Outcome {
  readonly call: string;
  readonly ok: boolean;
  readonly response?: unknown;
  readonly code?: string;
  readonly details?: string;
}

type Outcomes = ReadonlyMap<string, Outcome>;

function answer(outcomes: Outcomes, call: string): unknown {
  const outcome = outcomes.get(call);
  assert.ok(outcome?.ok, `${call}: ${JSON.stringify(outcome)}`);
  return outcome.response;
}

function failure(outcomes: Outcomes, call: string, code: string, details: RegExp): void {
  const outcome = outcomes.get(call);
  assert.equal(outcome?.ok, false, `${call} should fail: ${JSON.stringify(outcome)}`);
  assert.equal(outcome.code, code, call);
  assert.match(outcome.details ?? "", details, call);
}

interface MovieShown {
  id: string;
  title: string;
  director: string;
  rating: number;
}
interface OrderShown {
  notification_type: string;
  order?: { uuid: string; name: string; completed: boolean; date: string };
  /** The date the client sent. */
  sent?: string;
}

/**
 * Microseconds since the epoch of a UTC date-time written with "T" or a
 * space, any fraction digits (the first six count) and a final "Z".
 */
function epochMicros(text: string): bigint {
  const match = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(text);
  assert.ok(match, `${text} is a UTC date-time`);
  const [, day, time, fraction = ""] = match;
  return BigInt(Date.parse(`${day}T${time}Z`)) * 1000n + BigInt(fraction.slice(0, 6).padEnd(6, "0"));
}

/**
 * What the tutorials' clients must see, by folder of proto/tutorial/; returns
 * how many calls it checked. Every folder needs an entry, so a new tutorial
 * contract cannot go untested.
 */
const expectations: Record<string, (outcomes: Outcomes) => number> = {
  calculator(outcomes) {
    assert.equal(answer(outcomes, "Calculator.SquareRoot(16)"), 4);
    assert.equal(answer(outcomes, "Calculator.SquareRoot(2)"), Math.fround(Math.SQRT2));
    failure(outcomes, "Calculator.SquareRoot(-1)", "INVALID_ARGUMENT", /negative number: value is -1/);
    return 3;
  },
  helloworld(outcomes) {
    assert.equal(answer(outcomes, "Greeter.SayHello(you)"), "Hello, you!");
    assert.equal(answer(outcomes, "Greeter.SayHelloAgain(you)"), "Hello again, you!");
    failure(outcomes, "Greeter.SayHello(too long)", "INVALID_ARGUMENT", /cannot be more than 10 characters, got 11/);
    return 3;
  },
  hello(outcomes) {
    assert.equal(answer(outcomes, "HelloService.SayHello(なんしー)"), "こんにちは, なんしー");
    return 1;
  },
  movie(outcomes) {
    const martian = answer(outcomes, "Movie.GetMovieByID(The Martian)") as MovieShown;
    assert.deepEqual(
      { ...martian, rating: Math.round(martian.rating * 10) / 10 },
      {
        id: "a8034f44-aee4-44cf-b32c-74cf452aaaae",
        title: "The Martian",
        director: "Ridley Scott",
        rating: 8.2,
      },
    );
    failure(outcomes, "Movie.GetMovieByID(unknown)", "NOT_FOUND", /no-such-movie/);
    const listed = answer(outcomes, "Movie.GetListMovies()") as MovieShown[];
    assert.ok(listed.length >= 7, `${listed.length} movies`);
    assert.ok(listed.some(({ title }) => title === "The Martian"));
    return 3;
  },
  order(outcomes) {
    const created = answer(outcomes, "OrderService.CreateOrder") as OrderShown;
    assert.equal(created.notification_type, "ORDER_NOTIFICATION_TYPE_ENUM_OK");
    assert.equal(created.order?.name, "Python order");
    // f"{datetime.utcnow()}Z", e.g. "2026-11-30 08:44:59.123456Z", comes back as RFC 3339, the same instant to the microsecond.
    assert.match(created.sent ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?Z$/, "what the tutorial's client sends");
    assert.match(created.order.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{3}|\d{6})Z$/);
    assert.equal(epochMicros(created.order.date), epochMicros(created.sent ?? ""));
    const read = answer(outcomes, "OrderService.ReadOrder") as OrderShown;
    assert.deepEqual(read.order, created.order);
    const updated = answer(outcomes, "OrderService.UpdateOrder") as OrderShown;
    assert.equal(updated.order?.completed, true);
    assert.equal(updated.order?.date, created.order.date, "the date it read, sent back, is the same instant");
    assert.ok((answer(outcomes, "OrderService.ListOrders") as string[]).includes(created.order.uuid));
    assert.equal(answer(outcomes, "OrderService.DeleteOrder"), true);
    failure(outcomes, "OrderService.ReadOrder(deleted)", "NOT_FOUND", /./);
    return 6;
  },
};

/** Python grpcio with stubs generated at test time from the tutorials' contracts, called as the tutorials' client.py do. */
export function pythonSuite(server: () => ServerProcess, counter: CallCounter): void {
  describe("Python grpcio (tutorials' clients)", async () => {
    const missing = await grpcioMissing();
    // CI installs the packages, so there a missing one is a failure, not a skip.
    if (missing && process.env.CI === "true") throw new Error(missing);

    test("every tutorial contract answers as the tutorial's client expects", { skip: missing }, async (t) => {
      const { stdout } = await run(
        python,
        [join(repoRoot, "test/interop/tutorial_clients.py"), `127.0.0.1:${server().port}`, tutorialProtos],
        {
          timeout: 60_000,
        },
      );
      const outcomes: Outcomes = new Map(
        stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Outcome)
          .map((outcome) => [outcome.call, outcome]),
      );
      counter.add("Python grpcio", outcomes.size);
      t.diagnostic(`Python grpcio made ${outcomes.size} calls`);

      let checked = 0;
      for (const tutorial of readdirSync(tutorialProtos).sort()) {
        const expect = expectations[tutorial];
        assert.ok(expect, `no expectations for the tutorial contract ${tutorial}: add them to test/interop/python.ts`);
        checked += expect(outcomes);
      }
      assert.equal(outcomes.size, checked, "every call the script makes is checked here");
    });
  });
}

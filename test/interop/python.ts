import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, test } from "node:test";
import { repoRoot, type CallCounter, type ServerProcess } from "./server-process.js";

const run = promisify(execFile);
/** Debian's interpreter, which python3-grpcio and python3-grpc-tools install into (not a pyenv one first on PATH). */
const python = "/usr/bin/python3";

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

/** Python grpcio with stubs generated at test time from the tutorials' contracts, called as the tutorials' client.py do. */
export function pythonSuite(server: () => ServerProcess, counter: CallCounter): void {
  describe("Python grpcio (tutorials' clients)", async () => {
    const missing = await grpcioMissing();
    // CI installs the packages, so there a missing one is a failure, not a skip.
    if (missing && process.env.CI === "true") throw new Error(missing);

    test("tutorial contracts answer as the tutorials expect", { skip: missing }, async (t) => {
      const { stdout } = await run(python, [join(repoRoot, "test/interop/tutorial_clients.py"), `${server().host}:${server().port}`, join(repoRoot, "proto/tutorial")], {
        timeout: 60_000,
      });
      const outcomes = new Map(
        stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Outcome)
          .map((outcome) => [outcome.call, outcome]),
      );
      counter.add("Python grpcio", outcomes.size);
      t.diagnostic(`Python grpcio made ${outcomes.size} calls`);

      const answer = (call: string) => {
        const outcome = outcomes.get(call);
        assert.ok(outcome?.ok, `${call}: ${JSON.stringify(outcome)}`);
        return outcome.response;
      };
      const failure = (call: string) => {
        const outcome = outcomes.get(call);
        assert.equal(outcome?.ok, false, `${call} should fail: ${JSON.stringify(outcome)}`);
        return outcome;
      };

      assert.equal(answer("Calculator.SquareRoot(16)"), 4);
      assert.equal(answer("Calculator.SquareRoot(2)"), Math.fround(Math.SQRT2));
      const negative = failure("Calculator.SquareRoot(-1)");
      assert.equal(negative.code, "INVALID_ARGUMENT");
      assert.match(negative.details ?? "", /negative number: value is -1/);

      assert.equal(answer("Greeter.SayHello(you)"), "Hello, you!");
      assert.equal(answer("Greeter.SayHelloAgain(you)"), "Hello again, you!");
      const tooLong = failure("Greeter.SayHello(too long)");
      assert.equal(tooLong.code, "INVALID_ARGUMENT");
      assert.match(tooLong.details ?? "", /cannot be more than 10 characters, got 11/);

      assert.equal(answer("HelloService.SayHello(なんしー)"), "こんにちは, なんしー");
      assert.equal(outcomes.size, 7, "every call the script makes is checked here");
    });
  });
}

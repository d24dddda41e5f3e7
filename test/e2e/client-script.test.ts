import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestServer } from "../support/server.js";

// scripts/client.ts, as `npm run client -- --url ...` runs it once built.
const clientScript = fileURLToPath(new URL("../../scripts/client.js", import.meta.url));
const run = promisify(execFile);

const server = await startTestServer();
after(() => server.shutdown());

test("prints square roots, an error, greetings and the streamed replies", async () => {
  const { stdout } = await run(process.execPath, [clientScript, "--url", server.baseUrl, "--name", "Ada"]);
  assert.deepEqual(stdout.split("\n"), [
    "SquareRoot(16) = 4",
    "SquareRoot(2) = 1.4142135623730951",
    "SquareRoot(-4) failed: INVALID_ARGUMENT: cannot take the square root of a negative number: number is -4",
    "Hello, Ada!",
    "Hello again, Ada!",
    "LotsOfReplies(Ada), one message at a time:",
    "  [en] Hello, Ada!",
    "  [fr] Bonjour, Ada !",
    "  [es] ¡Hola, Ada!",
    "  [de] Hallo, Ada!",
    "  [ja] こんにちは、Adaさん！",
    "  [ko] 안녕하세요, Ada님!",
    "  [ru] Привет, Ada!",
    "",
  ]);
  // It really spoke gRPC.
  assert.equal(server.callLogs("/greeter.v1.GreeterService/LotsOfReplies").at(-1)?.protocol, "grpc");
});

test("says so and exits 1 when no server answers", async () => {
  // The test server's port, once it is shut down, has nobody listening.
  const other = await startTestServer();
  await other.shutdown();
  const failure = await run(process.execPath, [clientScript, "--url", other.baseUrl]).then(
    () => assert.fail("expected the client to fail"),
    (error: unknown) => error as { code: number; stdout: string; stderr: string },
  );
  assert.equal(failure.code, 1);
  assert.match(failure.stderr, new RegExp(`^cannot talk to ${other.baseUrl}: UNAVAILABLE`));
});

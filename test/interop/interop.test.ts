/**
 * The interop suite: clients we did not write, and the protocol edge cases of
 * the Connect conformance suite's categories, against ONE real server process
 * (`node dist/server/main.js`) on one port. Run alone with `npm run test:interop`.
 */
import { after, before } from "node:test";
import { bufCurlSuite } from "./buf-curl.js";
import { edgeCaseSuite } from "./edge-cases.js";
import { grpcJsSuite } from "./grpc-js.js";
import { protocolMatrixSuite } from "./matrix.js";
import { pythonSuite } from "./python.js";
import { CallCounter, type ServerProcess, startInteropServer } from "./server-process.js";
import { shutdownSuite } from "./shutdown.js";

/** Small enough that the size-limit cases stay quick; the edge cases read it from here. */
const readMaxBytes = 64 * 1024;
/** Long, so the shutdown case can tell a prompt shutdown from one that waited it out. */
const shutdownGraceMs = 10_000;

let server: ServerProcess | undefined;
const current = () => server ?? assertStarted();
const counter = new CallCounter();

function assertStarted(): never {
  throw new Error("the interop server is not running");
}

before(async () => {
  server = await startInteropServer({ READ_MAX_BYTES: String(readMaxBytes), SHUTDOWN_GRACE_MS: String(shutdownGraceMs) });
});

after(async () => {
  // The CI log shows that each third-party client really ran.
  console.log(`interop calls by client: ${counter.summary()}`);
  await server?.stop();
});

bufCurlSuite(current, counter);
grpcJsSuite(current, counter);
pythonSuite(current, counter);
protocolMatrixSuite(current, counter);
edgeCaseSuite(current, counter, readMaxBytes);
// Last: it shuts the server down.
shutdownSuite(current, counter, shutdownGraceMs);

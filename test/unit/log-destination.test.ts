import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

const logger = new URL("../../server/logger.js", import.meta.url).href;

/** Runs `body` in a process of its own whose logger writes JSON to stdout; returns what it printed. */
function run(body: string): { stdout: string; stderr: string; status: number | null } {
  const script = `import { createLogger } from ${JSON.stringify(logger)};
const logger = createLogger({ logLevel: "info", logFormat: "json" });
${body}`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

const messages = (stdout: string) =>
  stdout
    .trimEnd()
    .split("\n")
    .map((line) => (JSON.parse(line) as { msg: string }).msg);

test("batched JSON lines: every line is written when the process exits right after logging", () => {
  const { stdout, status } = run(`for (let i = 0; i < 5000; i++) logger.info({ i }, "line " + i);
process.exit(0);`);
  assert.equal(status, 0);
  assert.deepEqual(
    messages(stdout),
    Array.from({ length: 5000 }, (_, i) => `line ${i}`),
  );
});

test("batched JSON lines: written at the end of the event loop turn, in order", async () => {
  const { stdout } = run(`logger.info("first");
setTimeout(() => { logger.info("second"); logger.warn("third"); }, 10);`);
  assert.deepEqual(messages(stdout), ["first", "second", "third"]);
});

test("batched JSON lines: a fatal line is written before the crash's stack, with what was logged before it", () => {
  const { stdout, stderr, status } = run(`process.on("uncaughtExceptionMonitor", (error) => logger.fatal({ err: error }, "uncaught"));
logger.info("before");
throw new Error("boom");`);
  assert.equal(status, 1);
  assert.deepEqual(messages(stdout), ["before", "uncaught"]);
  assert.match(stderr, /Error: boom/);
});

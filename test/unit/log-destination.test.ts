import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

test("batched JSON lines: a line waits briefly for others, then is written while the process runs", () => {
  const folder = mkdtempSync(join(tmpdir(), "log-destination-"));
  const file = join(folder, "out.log");
  const fd = openSync(file, "w");
  try {
    const script = `import { statSync } from "node:fs";
import { createLogger } from ${JSON.stringify(logger)};
const logger = createLogger({ logLevel: "info", logFormat: "json" });
logger.info("first");
logger.info("second");
const before = statSync(${JSON.stringify(file)}).size;
setTimeout(() => {
  process.stderr.write(JSON.stringify({ before, after: statSync(${JSON.stringify(file)}).size }));
  setInterval(() => {}, 1000);
}, 100);
setTimeout(() => process.kill(process.pid, "SIGKILL"), 150);`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", stdio: ["ignore", fd, "pipe"] });
    const sizes = JSON.parse(result.stderr) as { before: number; after: number };
    assert.equal(sizes.before, 0, "nothing is written at once");
    // Killed with no chance to flush at exit: what is there was written by the timer.
    assert.ok(sizes.after > 0, "written within 100 ms");
    assert.deepEqual(messages(readFileSync(file, "utf8")), ["first", "second"]);
  } finally {
    closeSync(fd);
    rmSync(folder, { recursive: true, force: true });
  }
});

test("batched JSON lines: the last line of a process that ends on its own is written", () => {
  const { stdout, status } = run(`logger.info("only");`);
  assert.equal(status, 0);
  assert.deepEqual(messages(stdout), ["only"]);
});

test("batched JSON lines: written in order across timers", async () => {
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

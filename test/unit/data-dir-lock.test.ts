import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { lstat, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { lockDataDir } from "../../server/storage/data-dir-lock.js";

// Real processes holding, losing and fighting over the lock of a data folder.

const lockModule = new URL("../../server/storage/data-dir-lock.js", import.meta.url).href;
/** A process that takes the lock, says "locked" and keeps it until killed; or prints why not and exits 1. */
const holderScript = `
const { lockDataDir } = await import(process.argv[1]);
try {
  await lockDataDir(process.argv[2]);
  console.log("locked");
  setInterval(() => {}, 60_000);
} catch (error) {
  console.log(error.message);
  process.exit(1);
}`;

const children: ChildProcess[] = [];
const folders: string[] = [];
after(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function dataFolder(name = "data"): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), "lock-test-"));
  folders.push(folder);
  const dataDir = path.join(folder, name);
  await mkdir(dataDir, { recursive: true });
  return dataDir;
}

interface Holder {
  readonly child: ChildProcess;
  /** "locked", or the message it exited with. */
  readonly outcome: Promise<string>;
}

function holder(dataDir: string): Holder {
  const child = spawn(process.execPath, ["--input-type=module", "-e", holderScript, lockModule, dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let output = "";
  child.stdout?.setEncoding("utf8");
  const outcome = new Promise<string>((resolve) => {
    child.stdout?.on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("\n")) resolve(output.trim());
    });
    child.once("exit", () => resolve(output.trim()));
  });
  return { child, outcome };
}

/** A process that does nothing for a minute: a live PID that has nothing to do with any lock. */
function bystander(): ChildProcess {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  children.push(child);
  return child;
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

test("a running owner keeps every other process out, and the refusal names the folder and the owner", async () => {
  const dataDir = await dataFolder();
  const owner = holder(dataDir);
  assert.equal(await owner.outcome, "locked");
  await assert.rejects(
    lockDataDir(dataDir),
    new Error(`the data folder ${dataDir} is in use by process ${owner.child.pid}; stop it, or set DATA_DIR to another folder`),
  );
  const second = holder(dataDir);
  assert.equal(
    await second.outcome,
    `the data folder ${dataDir} is in use by process ${owner.child.pid}; stop it, or set DATA_DIR to another folder`,
  );
  await killHard(owner.child);
});

test("the lock of a process killed with SIGKILL is stale: the next process takes it over, and releasing removes it", async () => {
  const dataDir = await dataFolder();
  const owner = holder(dataDir);
  assert.equal(await owner.outcome, "locked");
  await killHard(owner.child);
  assert.ok((await lstat(`${dataDir}.lock`)).isSocket(), "the dead owner's socket file is still there");

  const unlock = await lockDataDir(dataDir);
  const refused = holder(dataDir);
  assert.match(await refused.outcome, new RegExp(`is in use by process ${process.pid};`));
  await unlock();
  await assert.rejects(lstat(`${dataDir}.lock`), { code: "ENOENT" });
  const next = holder(dataDir);
  assert.equal(await next.outcome, "locked");
  await killHard(next.child);
});

test("an old lock file holding the PID of an unrelated live process (a reused PID) does not keep the folder locked", async () => {
  const dataDir = await dataFolder();
  const reused = bystander();
  assert.ok(reused.pid);
  await writeFile(`${dataDir}.lock`, String(reused.pid));
  const unlock = await lockDataDir(dataDir);
  assert.ok((await lstat(`${dataDir}.lock`)).isSocket());
  await unlock();
  assert.equal(reused.exitCode, null, "the bystander was left alone");
});

const raceSkip = process.platform === "linux" ? false : "taking over a stale lock is serialized only on Linux (abstract sockets)";

test("processes racing for the same stale lock: exactly one gets it, the others are told who did", { skip: raceSkip }, async () => {
  const dataDir = await dataFolder();
  const first = holder(dataDir);
  assert.equal(await first.outcome, "locked");
  await killHard(first.child);

  const racers = Array.from({ length: 4 }, () => holder(dataDir));
  const outcomes = await Promise.all(racers.map((racer) => racer.outcome));
  const winners = racers.filter((_, index) => outcomes[index] === "locked");
  assert.equal(winners.length, 1, `exactly one process holds the lock: ${JSON.stringify(outcomes)}`);
  const winner = winners[0]?.child.pid;
  for (const outcome of outcomes.filter((outcome) => outcome !== "locked")) {
    assert.equal(outcome, `the data folder ${dataDir} is in use by process ${winner}; stop it, or set DATA_DIR to another folder`);
  }
});

test("a data folder whose path is too long for a socket is locked through the temporary folder instead", async () => {
  const dataDir = await dataFolder("d".repeat(120));
  const unlock = await lockDataDir(dataDir);
  await assert.rejects(lstat(`${dataDir}.lock`), { code: "ENOENT" });
  const refused = holder(dataDir);
  assert.match(await refused.outcome, new RegExp(`is in use by process ${process.pid};`));
  await unlock();
  const next = holder(dataDir);
  assert.equal(await next.outcome, "locked");
  await killHard(next.child);
});

test("the same process opening a folder twice is told so", async () => {
  const dataDir = await dataFolder();
  const unlock = await lockDataDir(dataDir);
  await assert.rejects(lockDataDir(dataDir), new Error(`the data folder ${dataDir} is already open in this process`));
  await unlock();
});

import { createHash } from "node:crypto";
import { once } from "node:events";
import { realpath, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * One process at a time per data folder, told apart by the kernel rather
 * than by a process id in a file (ids are reused: in a container the server
 * is often PID 1 again after a crash, so "is that PID alive?" says yes).
 *
 * The owner listens on a Unix domain socket beside the folder,
 * `<folder>.lock`, for as long as it runs, and answers each connection with
 * its process id. Binding is atomic: a second process gets EADDRINUSE and
 * connects; a live owner accepts (the folder is in use), while the socket
 * file of an owner that died, even by SIGKILL, refuses (ECONNREFUSED): it is
 * stale, so it is removed and bound anew. A lock file of the older kind (a
 * PID in a plain file) refuses the same way and is replaced.
 *
 * Where the socket path would exceed what the OS allows (about 104 bytes)
 * it lives in the temporary folder instead, named after a hash of the data
 * folder's real path.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const real = await realpath(dataDir);
  const lockPath = socketPath(real);
  // Only a crowd of processes taking over the same stale lock at once loops more than twice.
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const bound = await bindInTurn(lockPath);
    if (typeof bound === "object") return release(bound);
    if (bound === "live") {
      // Outside the turn: the owner's answer (its process id) may take a while.
      const holder = await probe(lockPath);
      if (holder.state === "live") throw inUse(dataDir, holder.pid);
    }
  }
  throw new Error(`could not lock the data folder ${dataDir}: other processes keep taking it; try again`);
}

/** Closing the server removes the socket file. */
function release(server: net.Server): () => Promise<void> {
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The longest socket path every supported OS takes (macOS: 104 bytes with the final NUL). */
const maxSocketPathBytes = 103;

function socketPath(realDataDir: string): string {
  const beside = `${realDataDir}.lock`;
  if (Buffer.byteLength(beside) <= maxSocketPathBytes) return beside;
  return path.join(tmpdir(), `data-dir-${hash(realDataDir).slice(0, 32)}.lock`);
}

/** Listens on `lockPath`, answering each connection with this process's id; undefined if something is there already. */
async function bind(lockPath: string): Promise<net.Server | undefined> {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.end(`${process.pid}\n`);
  });
  try {
    server.listen(lockPath);
    await once(server, "listening");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") return undefined;
    throw new Error(`could not lock the data folder with ${lockPath}: ${(error as Error).message}`, { cause: error });
  }
  // Nothing to report once listening; the lock must not keep the process alive.
  server.on("error", () => {});
  server.unref();
  return server;
}

type Holder = { state: "live"; pid: number | undefined } | { state: "stale" } | { state: "gone" };

/**
 * Connects to the lock: a live owner answers with its process id (waited
 * for at most `answerWaitMs`); a dead one's socket file refuses.
 */
async function probe(lockPath: string, answerWaitMs = 5_000): Promise<Holder> {
  const socket = net.connect(lockPath);
  // Failures are read through `once` below; none may go unheard later.
  socket.on("error", () => {});
  let answer = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (answer += chunk));
  try {
    await once(socket, "connect");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { state: "gone" };
    if (code === "ECONNREFUSED" || code === "ENOTSOCK") return { state: "stale" };
    throw error;
  }
  // Accepted (by the kernel, even while the owner is busy): someone is
  // there. Its id makes the message more useful, but is not worth waiting
  // long for: an owner still starting may not answer for seconds.
  if (answerWaitMs > 0) {
    await Promise.race([once(socket, "end"), once(socket, "close"), sleep(answerWaitMs, undefined, { ref: false })]).catch(() => {});
  }
  socket.destroy();
  const pid = Number(answer.trim());
  return { state: "live", pid: Number.isSafeInteger(pid) && pid > 0 ? pid : undefined };
}

/**
 * Binds the lock, taking over a stale one: the server, or "live" when a
 * live process holds it, or "busy" when another process is at it (look
 * again). Two processes that both found the same stale lock must not both
 * remove it: the second would remove the first one's fresh lock. On Linux
 * they take turns through a socket in the abstract namespace, which has no
 * file and is released by the kernel when its process dies. Binding happens
 * within the turn too, so no process ever probes a socket file that is
 * bound but not yet listening (it refuses connections, as a stale one does).
 */
async function bindInTurn(lockPath: string): Promise<net.Server | "live" | "busy"> {
  const turn = await takeTurn(lockPath);
  if (turn === undefined) return "busy";
  try {
    const server = await bind(lockPath);
    if (server !== undefined) return server;
    const holder = await probe(lockPath, 0);
    if (holder.state === "live") return "live";
    if (holder.state === "stale") await rm(lockPath, { force: true });
    return (await bind(lockPath)) ?? "busy";
  } finally {
    turn.close();
  }
}

async function takeTurn(lockPath: string): Promise<{ close(): void } | undefined> {
  if (process.platform !== "linux") return { close() {} };
  const server = net.createServer();
  try {
    server.listen(`\0connect-polyglot-server-lock-${hash(lockPath).slice(0, 32)}`);
    await once(server, "listening");
    server.unref();
    return server;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    await sleep(50);
    return undefined;
  }
}

function inUse(dataDir: string, pid: number | undefined): Error {
  if (pid === process.pid) return new Error(`the data folder ${dataDir} is already open in this process`);
  const who = pid === undefined ? "another process" : `process ${pid}`;
  return new Error(`the data folder ${dataDir} is in use by ${who}; stop it, or set DATA_DIR to another folder`);
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

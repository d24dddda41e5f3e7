import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LogRecord } from "./server.js";

/** The built server entry point, as `npm start` runs it. */
const mainScript = fileURLToPath(new URL("../../server/main.js", import.meta.url));

export interface ServerProcess {
  readonly pid: number;
  /** What the process logged so far (JSON lines). */
  readonly logs: LogRecord[];
  /** Resolves with the first log record that `match` accepts. */
  waitForLog(match: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** Resolves with the port once the server says it is serving. */
  serving(timeoutMs?: number): Promise<number>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/** Runs the real server as a separate process on a free port, logging JSON. */
export function spawnServer(env: Record<string, string>): ServerProcess {
  const child: ChildProcess = spawn(process.execPath, [mainScript], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", SHUTDOWN_GRACE_MS: "500", DATA_DIR: "memory://", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogRecord[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as LogRecord);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of waiters) wake();
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  void exited.then(() => {
    for (const wake of waiters) wake();
  });
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const waitForLog = (match: (record: LogRecord) => boolean, timeoutMs = 20_000) =>
    new Promise<LogRecord>((resolve, reject) => {
      const check = () => {
        const found = logs.find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (exitCode !== undefined) {
          done();
          reject(new Error(`the server process exited (${exitCode}) first; stderr: ${stderr.trim()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching log line within ${timeoutMs} ms; logs: ${JSON.stringify(logs.slice(-5))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    pid: child.pid ?? -1,
    logs,
    waitForLog,
    exited,
    async serving(timeoutMs) {
      const record = await waitForLog((entry) => entry.msg.startsWith("serving"), timeoutMs);
      return Number(record.port);
    },
    async stop() {
      if (exitCode === undefined) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs the server expecting it to refuse to start: resolves with its exit code and everything it printed. */
export async function failedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [mainScript], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", DATA_DIR: "memory://", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, output };
}

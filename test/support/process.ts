import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LogRecord } from "./logs.js";

/** The built server entry point, as `npm start` runs it. */
const mainScript = fileURLToPath(new URL("../../server/main.js", import.meta.url));

/** How the process ended, and what it printed on the way. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** stdout and stderr together, in the order they arrived. */
  readonly output: string;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** What the process logged so far: JSON lines from stdout (any other line as its `msg`). */
  readonly logs: LogRecord[];
  /** Resolves once the process has exited and its output has drained. */
  readonly exited: Promise<Exit>;
  /** Resolves with the first log record that `match` accepts; rejects if the process exits first. */
  waitForLog(match: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** Resolves with the port once the server says it is serving. */
  serving(timeoutMs?: number): Promise<number>;
  /** SIGTERM (unless it has exited already), then resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  /**
   * Start from this process's environment (the default), or from PATH alone
   * to see the server's own defaults.
   */
  readonly inheritEnv?: boolean;
  /** The working directory, where the embedded database keeps its default data folder. */
  readonly cwd?: string;
}

/**
 * Runs the real server (`node dist/server/main.js`) as a process of its own,
 * logging JSON, on a free port of 127.0.0.1 with an in-memory database unless
 * `env` says otherwise.
 */
export function spawnServer(env: Record<string, string>, { inheritEnv = true, cwd }: SpawnOptions = {}): ServerProcess {
  const base = inheritEnv ? process.env : { PATH: process.env.PATH ?? "" };
  const child = spawn(process.execPath, [mainScript], {
    cwd,
    env: { ...base, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", DATA_DIR: "memory://", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogRecord[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const check of waiters) check();
  };
  let stderr = "";
  let output = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    output += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    output += `${line}\n`;
    try {
      logs.push(JSON.parse(line) as LogRecord);
    } catch {
      logs.push({ msg: line });
    }
    wake();
  });
  const drained = new Promise((resolve) => lines.once("close", resolve));
  let exitCode: number | null | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      // Report only once the last lines have been read.
      void drained.then(() => {
        exitCode = code;
        wake();
        resolve({ code, signal, stderr: withoutSqliteWarning(stderr), output: withoutSqliteWarning(output) });
      });
    });
  });

  const waitForLog = (match: (record: LogRecord) => boolean, timeoutMs = 20_000) =>
    new Promise<LogRecord>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      const check = () => {
        const found = logs.find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (exitCode !== undefined) {
          done();
          reject(new Error(`the server process exited (${exitCode}) first; its output: ${output.trim().slice(-4000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching log line within ${timeoutMs} ms; logs: ${JSON.stringify(logs.slice(-5))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    child,
    logs,
    exited,
    waitForLog,
    async serving(timeoutMs) {
      const record = await waitForLog((entry) => typeof entry.port === "number" && entry.msg.startsWith("serving"), timeoutMs);
      return Number(record.port);
    },
    async stop() {
      if (exitCode === undefined && child.exitCode === null) child.kill("SIGTERM");
      return (await exited).code;
    },
  };
}

/** A server process that is serving, with its address. */
export interface StartedServer extends ServerProcess {
  readonly port: number;
  /** "http://127.0.0.1:PORT" */
  readonly baseUrl: string;
}

/** spawnServer, then waits until the server serves. */
export async function startServerProcess(env: Record<string, string> = {}, options: SpawnOptions = {}): Promise<StartedServer> {
  const server = spawnServer(env, options);
  const port = await server.serving();
  return { ...server, port, baseUrl: `http://127.0.0.1:${port}` };
}

/**
 * Node 22 warns once, on stderr, when a process first loads node:sqlite
 * (the embedded database): "ExperimentalWarning: SQLite is an experimental
 * feature", and a line on how to trace it. Node 24 does not. It is the one
 * line the server writes outside its log, and harmless, so tests that
 * require a quiet stderr do not count it (docs/database.md).
 */
function withoutSqliteWarning(text: string): string {
  return text.replace(/^\(node:\d+\) ExperimentalWarning: SQLite is an experimental feature.*\n(\(Use `node --trace-warnings .*\n)?/m, "");
}

import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LogRecord } from "./logs.js";

/** The built server entry point, as `npm start` runs it. */
export const mainScript = fileURLToPath(new URL("../../server/main.js", import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly baseUrl: string;
  /** JSON log lines from stdout so far. */
  readonly logs: LogRecord[];
  /** Resolves with how the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Waits until a log line matches. */
  waitForLog(matches: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
}

/** Runs `node dist/server/main.js` with the given environment and no more. */
export function runMain(env: Record<string, string>): { child: ChildProcess; logs: LogRecord[]; exited: ServerProcess["exited"] } {
  const child = spawn(process.execPath, [mainScript], {
    env: { PATH: process.env.PATH ?? "", LOG_FORMAT: "json", DATA_DIR: "memory://", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogRecord[] = [];
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout ?? process.stdin });
  lines.on("line", (line) => logs.push(JSON.parse(line) as LogRecord));
  const exited = (async () => {
    const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
    // Let the last output drain before reporting.
    if (child.stdout && !child.stdout.readableEnded) await once(child.stdout, "end");
    return { code, signal, stderr };
  })();
  return { child, logs, exited };
}

/** Starts the server as its own process on a free port and waits until it serves. */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const { child, logs, exited } = runMain({ PORT: "0", HOST: "127.0.0.1", ...env });
  const waitForLog = async (matches: (record: LogRecord) => boolean, timeoutMs = 10_000) => {
    for (let waited = 0; waited < timeoutMs; waited += 10) {
      const found = logs.find(matches);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${(await exited).stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("no matching log line");
  };
  const ready = await waitForLog((record) => typeof record.port === "number");
  const port = Number(ready.port);
  return { child, port, baseUrl: `http://127.0.0.1:${port}`, logs, exited, waitForLog };
}

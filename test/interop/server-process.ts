import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from dist/test/interop/). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** A log line of the server process, parsed from its JSON output. */
export type LogLine = Record<string, unknown> & { msg: string };

export interface ServerProcess {
  readonly host: string;
  readonly port: number;
  /** "http://127.0.0.1:PORT" */
  readonly baseUrl: string;
  /** Every line the server logged so far. */
  readonly logs: LogLine[];
  /** Sends SIGTERM and waits for the process to exit; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the built server exactly as a user does (`node dist/server/main.js`),
 * on a free port, in a fresh working directory, logging JSON; the port comes
 * from its "serving" log line.
 */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const workDir = mkdtempSync(join(tmpdir(), "interop-server-"));
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, "dist/server/main.js")], {
    cwd: workDir,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 20 s\n${stderr}`)), 20_000);
    void exited.then((code) => reject(new Error(`server exited with ${code} before serving\n${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const record = JSON.parse(line) as LogLine;
      logs.push(record);
      if (typeof record.port === "number" && record.msg.startsWith("serving")) {
        clearTimeout(timer);
        resolve(record.port);
      }
    });
  });

  return {
    host: "127.0.0.1",
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    logs,
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      rmSync(workDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Counts the calls each third-party client made, for the CI log. */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  add(client: string, calls = 1): void {
    this.counts.set(client, (this.counts.get(client) ?? 0) + calls);
  }

  get(client: string): number {
    return this.counts.get(client) ?? 0;
  }

  summary(): string {
    return [...this.counts].map(([client, count]) => `${client}: ${count} calls`).join("; ");
  }
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type StartedServer, startServerProcess } from "../support/process.js";

/** The repository root (this file runs from dist/test/interop/). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export type ServerProcess = StartedServer;

/**
 * The interop suite's one server, started exactly as a user does, in a fresh
 * working directory so the embedded database is a real one on disk; the
 * directory goes when the server stops.
 */
export async function startInteropServer(env: Record<string, string>): Promise<ServerProcess> {
  const workDir = mkdtempSync(join(tmpdir(), "interop-server-"));
  const server = await startServerProcess({ LOG_LEVEL: "info", DATA_DIR: join(workDir, "data"), ...env }, { cwd: workDir });
  return {
    ...server,
    async stop() {
      const code = await server.stop();
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

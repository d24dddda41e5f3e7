import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The built server, as `npm start` runs it (this file runs from dist/scripts/lib/). */
const mainScript = fileURLToPath(new URL("../../server/main.js", import.meta.url));

/** Servers still running, killed if this process ends first (an error, Ctrl-C) so none is left behind. */
const live = new Set<{ child: ChildProcess; workDir: string }>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once("exit", () => {
    for (const { child, workDir } of live) {
      child.kill("SIGKILL");
      rmSync(workDir, { recursive: true, force: true });
    }
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => process.exit(signal === "SIGINT" ? 130 : 143));
  }
}

/** How to start the server, besides its environment. */
export interface StartOptions {
  /**
   * A command the server runs under, e.g. ["taskset", "-c", "0"] to pin it
   * to one core; it must exec the server so the pid stays the server's.
   */
  readonly launcher?: readonly string[];
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * The real server as a process of its own: on a free port of 127.0.0.1, with
 * its own embedded database in a temporary folder, its log in a file (so a
 * slow reader never makes the server buffer), stderr kept for crash traces.
 */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    private readonly workDir: string,
    readonly exited: Promise<Exit>,
  ) {}

  static async start(env: Record<string, string> = {}, options: StartOptions = {}): Promise<ServerProcess> {
    installCleanup();
    const workDir = mkdtempSync(join(tmpdir(), "never-down-"));
    const port = await freePort();
    const [command = process.execPath, ...args] = [...(options.launcher ?? []), process.execPath, mainScript];
    const child = spawn(command, args, {
      cwd: workDir,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_FORMAT: "json",
        LOG_LEVEL: "info",
        DATA_DIR: join(workDir, "data"),
        ...env,
      },
      stdio: ["ignore", openSync(join(workDir, "server.log"), "w"), openSync(join(workDir, "stderr.log"), "w")],
    });
    const entry = { child, workDir };
    live.add(entry);
    const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    const server = new ServerProcess(child, port, workDir, exited);
    await server.waitUntilServing(90_000);
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("the server process has no pid");
    return this.child.pid;
  }

  /** The server's log file (JSON lines), which grows while it serves. */
  get logPath(): string {
    return join(this.workDir, "server.log");
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory in MiB, from /proc (Linux). */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
  }

  /** The last lines the server wrote (its log and stderr): what a failure report needs. */
  tail(lines = 12): string {
    let log = "";
    try {
      log = readFileSync(this.logPath, "utf8");
    } catch {
      // gone already
    }
    const last = log
      .split("\n")
      .filter((line) => line !== "")
      .slice(-lines);
    const stderr = this.stderr()
      .split("\n")
      .filter((line) => line !== "")
      .slice(-lines);
    return [...last.map((line) => `log: ${line.slice(0, 400)}`), ...stderr.map((line) => `stderr: ${line.slice(0, 400)}`)].join("\n");
  }

  stderr(): string {
    try {
      return readFileSync(join(this.workDir, "stderr.log"), "utf8");
    } catch {
      return "";
    }
  }

  /** Log records at warn level or above (pino levels: 40 warn, 50 error, 60 fatal). */
  warnings(): Array<Record<string, unknown>> {
    let text = "";
    try {
      text = readFileSync(this.logPath, "utf8");
    } catch {
      return [];
    }
    const records: Array<Record<string, unknown>> = [];
    for (const line of text.split("\n")) {
      if (!line.includes('"level":4') && !line.includes('"level":5') && !line.includes('"level":6')) continue;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        if (typeof record.level === "number" && record.level >= 40) records.push(record);
      } catch {
        // not JSON: ignore
      }
    }
    return records;
  }

  /** GET /healthz answers 200 within `timeoutMs`. */
  async healthy(timeoutMs: number): Promise<boolean> {
    try {
      const response = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  private async waitUntilServing(timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      if (!this.alive) {
        const tail = this.tail();
        rmSync(this.workDir, { recursive: true, force: true });
        throw new Error(`the server exited while starting:\n${tail}`);
      }
      if (await this.healthy(1_000)) return;
      await sleep(100);
    }
    this.child.kill("SIGKILL");
    throw new Error(`the server did not serve within ${timeoutMs} ms`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; removes the temporary folder. */
  async stop(graceMs = 15_000): Promise<Exit> {
    if (this.alive) this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    for (const entry of live) if (entry.child === this.child) live.delete(entry);
    rmSync(this.workDir, { recursive: true, force: true });
    return exit;
  }
}

/** A port nothing listens on right now (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

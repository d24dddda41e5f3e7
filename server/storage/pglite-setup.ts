import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const initdbScript = fileURLToPath(new URL("./pglite-initdb.js", import.meta.url));

/**
 * V8 settings for the initdb child: WebAssembly stays on V8's baseline
 * compiler (Liftoff). Optimising initdb's code costs hundreds of MB at its
 * peak (about 1.1 GB instead of about 650 MB) and, for one run, no time.
 */
const childFlags = ["--liftoff-only"];

/**
 * Writes a new database cluster into `folder` (empty, or not there yet), in
 * a child process that exits afterwards, so this process never holds
 * initdb's memory.
 */
export async function initialiseFolder(folder: string): Promise<void> {
  await runInitdb([folder]);
}

async function runInitdb(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [...childFlags, initdbScript, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    // The end says what went wrong; keep it bounded.
    stderr = (stderr + chunk).slice(-4000);
  });
  // If this process ends first (a signal at start), the child ends too
  // rather than writing into a folder nobody holds the lock of any more.
  const stop = () => child.kill("SIGKILL");
  process.once("exit", stop);
  try {
    const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
    if (code !== 0) {
      const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
      throw new Error(`could not create the embedded database (initdb ended with ${how}): ${stderr.trim() || "no message"}`);
    }
  } finally {
    process.off("exit", stop);
  }
}

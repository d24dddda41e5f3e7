import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { lightHeap } from "./heap-profile.js";

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`configuration error: ${error.message}\n`);
  process.exit(1);
}

// Before the rest of the server is loaded: loading it is what first grows
// V8's heap, and a restart (heap-profile.ts) should cost as little as it can.
if (config.heapProfile === "small") lightHeap();

// The rest of the server as one bundle (scripts/build.mjs): Node resolves,
// reads and links some nine hundred modules one by one otherwise, which was
// most of the start-up's time and a tenth of its memory. Built by tsc alone,
// without the bundle, the module tree serves the same.
const bundle = new URL("./bundle/run.js", import.meta.url);
const entry = existsSync(fileURLToPath(bundle)) ? bundle.href : "./run.js";
const { run } = (await import(entry)) as typeof import("./run.js");
await run(config);

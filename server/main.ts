import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { collectWhenIdle, lightHeap } from "./heap-profile.js";

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
if (config.heapProfile === "small") {
  lightHeap();
  collectWhenIdle();
}

// The rest of the server as one bundle (scripts/build.mjs): Node resolves,
// reads and links some nine hundred modules one by one otherwise, which was
// most of the start-up's time and a tenth of its memory. Built by tsc alone,
// without the bundle, the module tree serves the same.
const entry = bundleIsCurrent() ? new URL("./bundle/run.js", import.meta.url).href : "./run.js";
const { run } = (await import(entry)) as typeof import("./run.js");
await run(config);

/**
 * The bundle, unless there is none, or tsc compiled the modules after it was
 * made (`tsc --build` run by hand, without `npm run build`): serving from
 * the modules then, rather than from code older than the tree.
 */
function bundleIsCurrent(): boolean {
  const built = (path: string) => statSync(fileURLToPath(new URL(path, import.meta.url)), { throwIfNoEntry: false })?.mtimeMs;
  const bundle = built("./bundle/run.js");
  if (bundle === undefined) return false;
  const compiled = built("../tsconfig.tsbuildinfo");
  if (compiled === undefined || compiled <= bundle) return true;
  process.stderr.write(
    "dist/server/bundle is older than the compiled modules: serving from the modules (npm run build makes the bundle again)\n",
  );
  return false;
}

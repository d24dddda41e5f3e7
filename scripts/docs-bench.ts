/**
 * `npm run docs:bench [-- results.json]`: shows a benchmark run in
 * docs/performance.md. Copies the JSON `npm run bench` wrote (by default
 * bench-results.json) to docs/bench-results.json and rewrites the page's
 * "Latest results" section from it; test/unit/performance-docs.test.ts
 * checks that the two agree.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResults } from "./bench/results.js";
import { withLatestResults } from "./lib/performance-docs.js";

const source = resolve(process.argv[2] ?? "bench-results.json");
const results = JSON.parse(readFileSync(source, "utf8")) as BenchResults;
if (!Array.isArray(results.cells) || results.cells.length === 0) {
  console.error(`${source} holds no benchmark cells: give the JSON \`npm run bench\` wrote`);
  process.exit(2);
}
const json = fileURLToPath(new URL("../../docs/bench-results.json", import.meta.url));
const page = fileURLToPath(new URL("../../docs/performance.md", import.meta.url));
writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(page, withLatestResults(readFileSync(page, "utf8"), results));
process.stdout.write(`wrote ${json} and the latest results of ${page}\n`);

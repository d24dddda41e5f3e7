import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { BenchResults } from "../../scripts/bench/results.js";
import { latestResultsSection, withLatestResults } from "../../scripts/lib/performance-docs.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");

test("docs/performance.md shows the benchmark results in docs/bench-results.json", () => {
  const results = JSON.parse(read("docs/bench-results.json")) as BenchResults;
  const page = read("docs/performance.md");
  assert.ok(
    page.includes(latestResultsSection(results)),
    "docs/performance.md's latest results differ from docs/bench-results.json: run `npm run docs:bench -- docs/bench-results.json`",
  );
  // Every cell of the run shows in the page's table, with its rate.
  for (const cell of results.cells) assert.ok(page.includes(cell.title), `${cell.title} is missing from the page`);
});

test("a page without the generated section is refused, not silently left stale", () => {
  const results = JSON.parse(read("docs/bench-results.json")) as BenchResults;
  assert.throws(() => withLatestResults("# Performance\n", results), /no section between/);
});

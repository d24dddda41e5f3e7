import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { h2loadVersion } from "../../scripts/bench/h2load.js";
import { pythonMissing } from "../../scripts/bench/servers.js";
import { workloads } from "../../scripts/bench/workloads.js";
import { describeUnless } from "../support/skip.js";

// `npm run bench -- --quick`, shortened further: the harness runs every
// workload against every server and writes every row. Speed is not judged
// here (targets never go into timed tests), so exit code 1 (a target missed)
// passes; 2 (the benchmark could not run) does not.

const bench = fileURLToPath(new URL("../../scripts/bench.js", import.meta.url));

describeUnless(
  h2loadVersion() === undefined ? "h2load is not installed (apt-get install nghttp2-client)" : undefined,
  "npm run bench -- --quick",
  () => {
    test("every workload has a row for every server, and the JSON has the memory run and the targets", { timeout: 120_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), "bench-smoke-"));
      try {
        const json = join(dir, "results.json");
        const args = ["--quick", "--duration", "0.5", "--warmup", "0.2", "--memory-calls", "3000", "--movies", "200", "--json", json];
        const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          execFile(process.execPath, [bench, ...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
            resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr }),
          );
        });
        assert.ok(code === 0 || code === 1, `exit code ${code}\n${stderr.slice(-3_000)}`);
        const results = JSON.parse(readFileSync(json, "utf8")) as {
          cells: Array<{
            workload: string;
            server: string;
            rate: number;
            runs: unknown[];
            failed: number;
            postgresCpuUsPerUnit?: number;
            loopDelayP99Ms?: number;
          }>;
          memory: { calls: number; rssStartMiB: number; rssEndMiB: number } | undefined;
          validation: { busySamples: number; share: number } | null;
          idleRssMiB: number | null;
          targets: Array<{ target: string; ok: boolean | null }>;
          observability: Array<{ server: string; costVsDefault: { cpuPct: number } | null }>;
          spanFloor: { withoutUs: number; withUs: number; spanUs: number } | null;
          startup: { cells: Array<{ kind: string; runs: number; servingMs: number; rssMiB: number }> };
          notes: string[];
        };
        const python = pythonMissing() === undefined;
        // The database workloads run on PostgreSQL too, unless it cannot be reached here (a note says so).
        const postgres = !results.notes.some((note) => note.startsWith("This server on PostgreSQL skipped"));
        // --quick leaves out the WORKERS comparison (PostgreSQL) unless asked for.
        const expected = workloads()
          .filter((workload) => workload.needs === undefined)
          .flatMap((workload) =>
            workload.servers
              .filter((server) => (python || server !== "grpcio") && (postgres || server !== "this-postgres"))
              .map((server) => `${workload.id} ${server}`),
          );
        assert.deepEqual(
          results.cells.map((cell) => `${cell.workload} ${cell.server}`),
          expected,
        );
        for (const cell of results.cells) {
          assert.equal(cell.runs.length, 1, `${cell.workload} ${cell.server}: one round`);
          assert.equal(cell.failed, 0, `${cell.workload} ${cell.server}: no call failed`);
          // Every server answered its probe call right before the runs. In
          // half a second on a busy machine, 128 calls queued on the embedded
          // database may all still be waiting, so only the calculator's
          // runs must have counted calls.
          if (cell.workload.startsWith("grpc-unary")) assert.ok(cell.rate > 0, `${cell.workload} ${cell.server}: calls counted`);
        }
        // GetMovie and CreateOrder on both engines, PostgreSQL's own CPU beside ours on its rows only.
        for (const workload of ["db-get-movie", "db-create-order"]) {
          const engines = results.cells.filter((cell) => cell.workload === workload).map((cell) => cell.server);
          assert.deepEqual(engines, postgres ? ["this-database", "this-postgres"] : ["this-database"], `${workload} on each engine`);
          for (const cell of results.cells.filter((cell) => cell.workload === workload)) {
            assert.equal(
              cell.postgresCpuUsPerUnit !== undefined,
              cell.server === "this-postgres",
              `${workload} ${cell.server}: PostgreSQL CPU`,
            );
          }
        }
        // The event-loop delay of a run is read from our servers' /metrics; the others and METRICS=off have none.
        for (const cell of results.cells) {
          const ours = cell.server.startsWith("this") && cell.server !== "this-metrics-off";
          assert.equal(cell.loopDelayP99Ms !== undefined, ours, `${cell.workload} ${cell.server}: loop delay`);
        }
        assert.match(
          stdout,
          /^\| Workload \| Server \| Rate \/s \| p50 ms \| p99 ms \| CPU µs\/unit \| PostgreSQL CPU µs\/unit \| Loop delay p99 ms \|/m,
        );
        // connect-node's own path beside the fast path, on gRPC and on Connect JSON over HTTP/1.1.
        for (const workload of ["grpc-unary-8x16", "connect-json-h1-8"]) {
          const off = results.cells.find((cell) => cell.workload === workload && cell.server === "this-fast-path-off");
          assert.ok(off !== undefined && off.runs.length === 1, `${workload}: a FAST_PATH=off row`);
        }
        assert.match(stdout, /FAST_PATH=off \(connect-node's own path\)/, "the FAST_PATH=off rows are printed");
        assert.ok(results.memory !== undefined && results.memory.calls >= 3000 && results.memory.rssEndMiB > 0);
        assert.ok(results.targets.length >= 10);
        assert.ok(
          results.targets.some((check) => check.target.startsWith("ListMovies streams the whole catalogue (207 movies)") && check.ok),
          "ListMovies streams every seeded movie and the tutorial's seven",
        );
        assert.deepEqual(
          results.observability.map((row) => row.server),
          ["this", "this-metrics-off", "this-tracing-sampled", "this-tracing"],
        );
        assert.ok(results.targets.some((check) => check.target.startsWith("Tracing sampled at 0.1 costs ≤ 5%") && check.ok !== null));
        // The validation step's share, from a profiled server of its own, and the RSS of the idle server after the database runs.
        assert.ok(results.validation !== null && results.validation.busySamples > 0, "the validation step's share is measured");
        assert.ok(results.idleRssMiB !== null && results.idleRssMiB > 0, "the idle server's RSS is measured");
        // A span measured alone: both sides ran (in one short round their difference may be noise either way).
        assert.ok(
          results.spanFloor !== null && results.spanFloor.withoutUs > 0 && results.spanFloor.withUs > 0,
          "the span floor is measured",
        );
        assert.match(stdout, /^A span by itself .*: -?[0-9.]+ µs CPU per call = /m, "the span floor is printed");
        assert.ok(results.notes.some((note) => note.startsWith("WORKERS=1 vs 2 skipped in a --quick run")));
        assert.deepEqual(
          results.startup.cells.map((cell) => [cell.kind, cell.runs]),
          [
            ["new", 1],
            ["existing", 1],
            ["memory", 1],
          ],
        );
        for (const cell of results.startup.cells) assert.ok(cell.servingMs > 0 && cell.rssMiB > 0, `start-up on ${cell.kind} measured`);
        assert.match(stdout, /^\| Workload \| Server \| Rate \/s \|/m, "the Markdown table is printed");
        assert.match(stdout, /^\| Start-up \(default configuration\) \|/m, "the start-up table is printed");
        assert.match(stdout, /^(ok +|MISS) gRPC unary 8×16: ≥ 1\.0× grpc-js/m, "the targets are printed");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

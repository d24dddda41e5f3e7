import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { dashboardQueries } from "../support/metrics.js";
import { type StartedServer, startServerProcess } from "../support/process.js";
import { protocolCases } from "../support/server.js";
import { describeUnless } from "../support/skip.js";

/** Debian's Prometheus (apt-get install prometheus); .ci/run installs it. */
const prometheusPath = process.env.PROMETHEUS_PATH ?? "/usr/bin/prometheus";

function prometheusUnavailable(): string | undefined {
  if (existsSync(prometheusPath)) return undefined;
  const message = `Prometheus not found at ${prometheusPath}: install it with "apt-get install prometheus" (.ci/run does), or set PROMETHEUS_PATH`;
  if (process.env.CI === "true") throw new Error(message);
  return message;
}

/** A port nobody listens on now (Prometheus needs a fixed listen address). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface VectorResult {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

describeUnless(prometheusUnavailable(), "a real Prometheus scrapes the server", () => {
  let server: StartedServer;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let dataDir: string;
  let prometheusLog = "";

  before(async () => {
    server = await startServerProcess();
    dataDir = await mkdtemp(join(tmpdir(), "prometheus-"));
    const config = join(dataDir, "prometheus.yml");
    await writeFile(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        "  - job_name: connect-polyglot-server",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${server.port}"]`,
        "",
      ].join("\n"),
    );
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      prometheusPath,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dataDir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stdout?.on("data", (chunk: Buffer) => (prometheusLog += chunk.toString()));
    prometheus.stderr?.on("data", (chunk: Buffer) => (prometheusLog += chunk.toString()));
    for (let waited = 0; ; waited += 100) {
      const ready = await fetch(`${prometheusUrl}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (prometheus.exitCode !== null || waited > 30_000) assert.fail(`Prometheus did not start: ${prometheusLog}`);
      await sleep(100);
    }
  });

  after(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once("exit", resolve));
      prometheus.kill("SIGTERM");
      await exited;
    }
    await server?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  async function query(promql: string): Promise<VectorResult[]> {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; data: { resultType: string; result: VectorResult[] }; error?: string };
    assert.equal(body.status, "success", `${promql}: ${body.error ?? ""}`);
    assert.equal(body.data.resultType, "vector");
    return body.data.result;
  }

  test("PromQL returns the call counts by method, protocol and code after a known mix of calls", async () => {
    const protocols = protocolCases(server.baseUrl);
    const [grpc, grpcWeb, connectJson, , connectGet] = protocols.cases;
    assert.ok(grpc && grpcWeb && connectJson && connectGet);
    const calc = (transport: typeof grpc.transport) => createClient(CalculatorService, transport);
    try {
      for (let call = 0; call < 3; call++) await calc(grpc.transport).squareRoot({ number: 4 });
      await calc(grpc.transport)
        .squareRoot({ number: -1 })
        .catch(() => {});
      for (let call = 0; call < 2; call++) await calc(grpcWeb.transport).add({ a: 1, b: 2 });
      for (let call = 0; call < 2; call++) await createClient(GreeterService, connectJson.transport).sayHello({ name: "Ada" });
      for (let call = 0; call < 2; call++)
        await calc(connectJson.transport)
          .squareRoot({ number: -4 })
          .catch(() => {});
      await calc(connectGet.transport).squareRoot({ number: 16 });
    } finally {
      protocols.close();
    }
    const expected = new Map([
      ["calculator.v1.CalculatorService/SquareRoot grpc OK", 3],
      ["calculator.v1.CalculatorService/SquareRoot grpc INVALID_ARGUMENT", 1],
      ["calculator.v1.CalculatorService/Add grpc_web OK", 2],
      ["greeter.v1.GreeterService/SayHello connect OK", 2],
      ["calculator.v1.CalculatorService/SquareRoot connect INVALID_ARGUMENT", 2],
      ["calculator.v1.CalculatorService/SquareRoot connect OK", 1],
    ]);
    const callCount = [...expected.values()].reduce((sum, count) => sum + count, 0);

    // Wait for a scrape that saw every call.
    const byLabels = 'sum by (rpc_method, protocol, rpc_status_code) (rpc_server_handled_total{job="connect-polyglot-server"})';
    let result: VectorResult[] = [];
    for (let waited = 0; ; waited += 250) {
      result = await query(byLabels);
      const seen = result.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
      if (seen >= callCount) break;
      assert.ok(waited < 30_000, `Prometheus saw ${seen} of ${callCount} calls; its log: ${prometheusLog}`);
      await sleep(250);
    }
    const actual = new Map(
      result.map((sample) => [
        `${sample.metric.rpc_method} ${sample.metric.protocol} ${sample.metric.rpc_status_code}`,
        Number(sample.value[1]),
      ]),
    );
    assert.deepEqual(actual, expected);

    const [up] = await query('up{job="connect-polyglot-server"}');
    assert.equal(up?.value[1], "1", "the target is up");
    const started = await query('sum(rpc_server_started_total{rpc_service="calculator.v1.CalculatorService"})');
    assert.equal(started[0]?.value[1], "9");
    const p99 = await query(
      'histogram_quantile(0.99, sum by (le, rpc_method) (rpc_server_call_duration_seconds_bucket{rpc_method="calculator.v1.CalculatorService/SquareRoot"}))',
    );
    const latency = Number(p99[0]?.value[1]);
    assert.ok(latency > 0 && latency < 5, `a p99 latency in seconds, got ${latency}`);
    const heap = await query('nodejs_heap_size_used_bytes{job="connect-polyglot-server"}');
    assert.ok(Number(heap[0]?.value[1]) > 0, "Node's process metrics are scraped too");
  });

  test("every query of the Grafana dashboard is valid PromQL, and the RPC panels show the calls", async () => {
    const withVariables = (expr: string) =>
      expr.replaceAll("$__rate_interval", "1m").replace(/\$(job|instance|rpc_service|protocol)\b/g, ".*");
    // rate() needs two scrapes of a series: wait for a few more.
    await sleep(3_000);
    const empty: string[] = [];
    for (const expr of dashboardQueries()) {
      // query() fails on a query Prometheus cannot parse or evaluate.
      if ((await query(withVariables(expr))).length === 0) empty.push(expr);
    }
    // Panels of things this run did not do (refusals, query errors, GC kinds) may be empty; the RPC ones may not.
    const rpcEmpty = empty.filter((expr) => /rpc_server_(handled|call_duration|calls_in_flight)/.test(expr) && !expr.includes("!="));
    assert.deepEqual(rpcEmpty, []);
  });
});

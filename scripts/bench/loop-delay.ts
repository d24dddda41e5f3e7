/**
 * The server's event-loop delay during one measured run, read from what it
 * already exports: prom-client's default metrics keep a
 * perf_hooks.monitorEventLoopDelay histogram (a timer every 10 ms, its
 * lateness recorded), publish its percentiles as gauges at each scrape of
 * /metrics and then reset it. So a scrape right before the run starts an
 * empty histogram, and one right after reads the run's own p99; nothing is
 * added to the server, and both scrapes fall outside the CPU reading.
 *
 * The histogram records the time between two ticks of its timer, not how
 * late a tick was: an idle server's p99 reads 10.2 ms. The timer's interval
 * (prom-client's default, which server/observability/process-metrics.ts
 * keeps) is taken off, so 0 is a loop that never kept a timer waiting.
 */

const p99Gauge = "nodejs_eventloop_lag_p99_seconds";
const timerIntervalMs = 10;

/** The p99 delay in milliseconds, from the Prometheus text exposition; undefined when the gauge is absent or empty. */
export function loopDelayP99MsFromExposition(text: string): number | undefined {
  const match = new RegExp(`^${p99Gauge}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(text);
  if (match === null) return undefined;
  const seconds = Number(match[1]);
  // An empty histogram (no tick since the last scrape) reports 0.
  if (!Number.isFinite(seconds) || seconds === 0) return undefined;
  return Math.max(0, seconds * 1000 - timerIntervalMs);
}

/** Scrapes /metrics on `port` (which also restarts the histogram) and returns the p99 of the delays since the previous scrape. */
export async function scrapeLoopDelayP99Ms(port: number): Promise<number | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}: ${text.slice(0, 200)}`);
  return loopDelayP99MsFromExposition(text);
}

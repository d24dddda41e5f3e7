#!/usr/bin/env bash
# What metrics and tracing cost a unary call: the same h2load run (gRPC
# Calculator/SquareRoot over h2c) against a server with metrics off, metrics
# on (the default), and metrics on with tracing at sampling 1.0 exporting to a
# local OTLP/HTTP sink; the three take turns, ROUNDS times, so a machine whose
# load changes affects all three alike. For each run it prints the throughput
# and the server's CPU time per call (user + system, from /proc), then the
# medians. On a shared or busy machine the CPU time per call is the steadier
# figure: throughput follows it when the server is CPU-bound.
#
# usage: scripts/observability-overhead.sh [ROUNDS=5] [CALLS=20000]
# needs: h2load (Debian: nghttp2-client), a built tree (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
calls=${2:-20000}
command -v h2load >/dev/null || { echo "h2load not found: apt-get install nghttp2-client" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $sink 2>/dev/null || true; [ -n "${server:-}" ] && kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

# SquareRootRequest{number: 9} in a gRPC frame: no compression, 9 bytes.
printf '\x00\x00\x00\x00\x09\x09\x00\x00\x00\x00\x00\x00\x22\x40' >"$work/request.bin"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# An OTLP/HTTP sink that reads and acknowledges every export.
sink_port=$(free_port)
node -e '
  require("http").createServer((req, res) => { req.resume(); req.on("end", () => { res.writeHead(200, { "content-type": "application/x-protobuf" }); res.end(); }); })
    .listen(Number(process.argv[1]), "127.0.0.1");' "$sink_port" &
sink=$!

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
declare -A cpu rps
for round in $(seq 1 "$rounds"); do
  for mode in off metrics tracing; do
    case $mode in
      off) env=(METRICS=off) ;;
      metrics) env=(METRICS=on) ;;
      tracing) env=(METRICS=on "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$sink_port" OTEL_TRACES_SAMPLER=always_on) ;;
    esac
    port=$(free_port)
    env "${env[@]}" PORT="$port" HOST=127.0.0.1 DATA_DIR=memory:// LOG_FORMAT=json node dist/server/main.js >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 240); do grep -qs '"msg":"serving' "$work/server.log" && break; sleep 0.25; done
    load() {
      h2load -n "$1" -c 8 -m 16 -d "$work/request.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
        "http://127.0.0.1:$port/calculator.v1.CalculatorService/SquareRoot"
    }
    load 4000 >/dev/null # warm-up: JIT, connection pools
    before=$(cpu_ticks "$server")
    out=$(load "$calls")
    after=$(cpu_ticks "$server")
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
    succeeded=$(grep -oE '[0-9]+ succeeded' <<<"$out" | head -n 1 | cut -d' ' -f1)
    [ "$succeeded" = "$calls" ] || { echo "$mode: only $succeeded of $calls calls succeeded" >&2; exit 1; }
    rate=$(grep -oE 'finished in [0-9.]+m?s, [0-9.]+ req/s' <<<"$out" | grep -oE '[0-9.]+ req/s' | cut -d' ' -f1)
    us=$(( (after - before) * 1000000 / ticks / calls ))
    echo "round $round  $mode  ${rate} calls/s  ${us} us CPU per call"
    cpu[$mode]+="$us "
    rps[$mode]+="$rate "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base_cpu=$(median <<<"${cpu[off]}")
base_rps=$(median <<<"${rps[off]}")
echo "median over $rounds rounds of $calls calls:"
for mode in off metrics tracing; do
  c=$(median <<<"${cpu[$mode]}")
  r=$(median <<<"${rps[$mode]}")
  awk -v m="$mode" -v c="$c" -v r="$r" -v bc="$base_cpu" -v br="$base_rps" 'BEGIN {
    printf "  %-8s %8.0f calls/s (%+.1f%%)  %5.0f us CPU per call (%+.1f%%, as throughput %+.1f%%)\n", m, r, 100 * (r / br - 1), c, 100 * (c / bc - 1), 100 * (bc / c - 1)
  }'
done

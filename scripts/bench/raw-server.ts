/**
 * The limit: Node's own HTTP servers answering a canned reply, with no
 * routing, no protobuf, no logging. Whatever a real server on node:http2 /
 * node:http does on top costs throughput against this. Run as its own
 * process (so it can be pinned and its CPU read):
 *
 *   node dist/scripts/bench/raw-server.js h2   canned gRPC reply (headers, one message, trailers)
 *   node dist/scripts/bench/raw-server.js h1   canned Connect JSON, or gRPC-Web when asked in gRPC-Web
 *
 * Prints {"port": N} once listening on 127.0.0.1.
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectJsonReply, grpcSquareRootReply, grpcWebReply } from "./payloads.js";

const mode = process.argv[2];

function announce(server: http.Server | http2.Http2Server): void {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

if (mode === "h2") {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("error", () => {});
    // Read the request to its end first, as a real unary handler must.
    stream.resume();
    stream.once("end", () => {
      if (stream.destroyed) return;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(grpcSquareRootReply);
    });
  });
  server.listen(0, "127.0.0.1", () => announce(server));
} else if (mode === "h1") {
  const server = http.createServer((request, response) => {
    request.resume();
    request.once("end", () => {
      const grpcWeb = (request.headers["content-type"] ?? "").startsWith("application/grpc-web");
      const body = grpcWeb ? grpcWebReply : connectJsonReply;
      response.writeHead(200, {
        "content-type": grpcWeb ? "application/grpc-web+proto" : "application/json",
        "content-length": body.length,
      });
      response.end(body);
    });
  });
  // Keep connections between h2load's warm-up and measured runs from being cut mid-run.
  server.keepAliveTimeout = 120_000;
  server.listen(0, "127.0.0.1", () => announce(server));
} else {
  console.error("usage: raw-server.js h2|h1");
  process.exit(2);
}

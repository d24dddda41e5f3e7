/**
 * A local OTLP/HTTP collector stand-in for the tracing variant: reads every
 * export and acknowledges it with 200 and an empty protobuf answer (an
 * ExportTraceServiceResponse with no fields), as a collector that took every
 * span would. Counts nothing and keeps nothing. Prints {"port": N} once
 * listening on 127.0.0.1.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

const server = http.createServer((request, response) => {
  request.resume();
  request.once("end", () => {
    response.writeHead(200, { "content-type": "application/x-protobuf", "content-length": 0 });
    response.end();
  });
});
server.keepAliveTimeout = 120_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});

import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../../gen/health/v1/health_pb.js";
import { envelopes } from "../support/raw.js";
import { startTestServer } from "../support/server.js";

// Found by the fuzzer: a gRPC Health/Watch whose envelope carries a flag
// the fast path does not know (0x04) is handed back to connect-node, which
// serves it; the fast path then waited for the whole answer before writing
// any of it, and a watch never ends: the client got nothing at all.

for (const fastPath of ["on", "off"]) {
  test(`FAST_PATH=${fastPath}: a watch with an unusual envelope flag is answered at once, as connect-node reads it`, async () => {
    const server = await startTestServer({ FAST_PATH: fastPath });
    after(() => server.shutdown());
    const session = http2.connect(server.baseUrl);
    after(() => session.close());
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Watch",
      "content-type": "application/grpc",
      te: "trailers",
    });
    // Flag 0x04, an empty HealthCheckRequest (every service).
    stream.end(Buffer.from([0x04, 0, 0, 0, 0]));
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer within 2 s")), 2_000);
      stream.once("response", (headers) => {
        clearTimeout(timer);
        resolve(Number(headers[":status"]));
      });
    });
    assert.equal(status, 200);
    const [first] = await new Promise<Buffer[]>((resolve) => stream.once("data", (chunk: Buffer) => resolve([chunk])));
    const [message] = envelopes(first ?? Buffer.alloc(0));
    assert.ok(message !== undefined, "the first message arrived");
    assert.equal(fromBinary(HealthCheckResponseSchema, message.data).status, HealthCheckResponse_ServingStatus.SERVING);
    stream.close(http2.constants.NGHTTP2_CANCEL);
  });
}

import * as http2 from "node:http2";

/** What came back for one HTTP/2 request, exactly as it was on the wire. */
export interface RawH2Answer {
  readonly headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;
  /** Trailers, or undefined for a "trailers-only" answer (status in the headers). */
  readonly trailers: http2.IncomingHttpHeaders | undefined;
  readonly body: Buffer;
  /** Arrival time of each DATA chunk, in ms since the request was sent. */
  readonly arrivals: number[];
}

/** Sends one request on an HTTP/2 session with exactly the given headers and body. */
export function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body: Uint8Array): Promise<RawH2Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const stream = session.request({ ":method": "POST", ...headers });
    let responseHeaders: RawH2Answer["headers"] | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    const arrivals: number[] = [];
    stream.on("response", (received) => (responseHeaders = received));
    stream.on("trailers", (received) => (trailers = received));
    stream.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      arrivals.push(performance.now() - started);
    });
    stream.on("error", reject);
    stream.on("close", () => {
      if (responseHeaders === undefined) reject(new Error(`stream closed without a response (RST_STREAM code ${stream.rstCode})`));
      else resolve({ headers: responseHeaders, trailers, body: Buffer.concat(chunks), arrivals });
    });
    stream.end(body);
  });
}

/** Wraps a protobuf message in gRPC's length-prefixed envelope. */
export function grpcFrame(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** Splits a gRPC response body into its messages. */
export function grpcUnframe(body: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let offset = 0; offset < body.length; ) {
    const length = body.readUInt32BE(offset + 1);
    messages.push(body.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  return messages;
}

/** The gRPC status of an answer, from its trailers or, for a trailers-only answer, its headers. */
export function grpcStatus(answer: RawH2Answer): { code: number; message: string } {
  const source = answer.trailers ?? answer.headers;
  return {
    code: Number(source["grpc-status"]),
    message: decodeURIComponent(String(source["grpc-message"] ?? "")),
  };
}

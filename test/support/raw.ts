import type * as http2 from "node:http2";

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

/** A length-prefixed message as gRPC, gRPC-Web and Connect streaming frame them; flag 1 means compressed. */
export function envelope(data: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + data.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(data.byteLength, 1);
  frame.set(data, 5);
  return frame;
}

/** Splits a body into its length-prefixed messages. */
export function envelopes(body: Buffer): Array<{ flags: number; data: Buffer }> {
  const frames = [];
  for (let offset = 0; offset + 5 <= body.length; ) {
    const length = body.readUInt32BE(offset + 1);
    frames.push({ flags: body.readUInt8(offset), data: body.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return frames;
}

/** The gRPC status of an answer, from its trailers or, for a trailers-only answer, its headers. */
export function grpcStatus(answer: RawH2Answer): { code: number; message: string } {
  const source = answer.trailers ?? answer.headers;
  return {
    code: Number(source["grpc-status"]),
    message: decodeURIComponent(String(source["grpc-message"] ?? "")),
  };
}

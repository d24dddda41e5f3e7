import * as http from "node:http";
import * as http2 from "node:http2";

/** One answer, as a client that checks it sees it. */
export interface ProbeReply {
  readonly httpStatus: number;
  readonly contentType: string;
  /** The body as h2load counts it: HTTP/2 DATA payloads, or an HTTP/1.1 body after chunked decoding. */
  readonly body: Buffer;
  /** grpc-status from the HTTP/2 trailers (or headers, for a trailers-only answer). */
  readonly grpcStatus: string | undefined;
  readonly grpcMessage: string | undefined;
}

export interface ProbeRequest {
  readonly url: string;
  readonly http1: boolean;
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | undefined;
}

/** Sends one request the way h2load will, before any load, to check the answer and learn its size. */
export function probe(request: ProbeRequest, timeoutMs = 30_000): Promise<ProbeReply> {
  return request.http1 ? probeHttp1(request, timeoutMs) : probeHttp2(request, timeoutMs);
}

function probeHttp2(request: ProbeRequest, timeoutMs: number): Promise<ProbeReply> {
  const url = new URL(request.url);
  return new Promise((resolve, reject) => {
    const session = http2.connect(url.origin);
    session.on("error", reject);
    session.setTimeout(timeoutMs, () => {
      session.destroy();
      reject(new Error(`no answer from ${request.url} within ${timeoutMs} ms`));
    });
    const stream = session.request({
      ":method": request.method,
      ":path": url.pathname + url.search,
      ...request.headers,
    });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (received) => {
      headers = received;
    });
    stream.on("trailers", (received) => {
      trailers = received;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("end", () => {
      session.close();
      const grpc = (name: string) => text(trailers[name] ?? headers[name]);
      resolve({
        httpStatus: Number(headers[":status"]),
        contentType: text(headers["content-type"]) ?? "",
        body: Buffer.concat(chunks),
        grpcStatus: grpc("grpc-status"),
        grpcMessage: grpc("grpc-message"),
      });
    });
    stream.end(request.body);
  });
}

function probeHttp1(request: ProbeRequest, timeoutMs: number): Promise<ProbeReply> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(request.url, { method: request.method, headers: request.headers, agent: false, timeout: timeoutMs });
    outgoing.on("timeout", () => outgoing.destroy(new Error(`no answer from ${request.url} within ${timeoutMs} ms`)));
    outgoing.on("error", reject);
    outgoing.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () =>
        resolve({
          httpStatus: response.statusCode ?? 0,
          contentType: response.headers["content-type"] ?? "",
          body: Buffer.concat(chunks),
          grpcStatus: text(response.headers["grpc-status"]),
          grpcMessage: text(response.headers["grpc-message"]),
        }),
      );
    });
    outgoing.end(request.body);
  });
}

function text(value: string | string[] | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(", ") : String(value);
}

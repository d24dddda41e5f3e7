import * as http2 from "node:http2";
import type { HttpRequest } from "../case.js";
import type { Headers, Limits, Outcome } from "../outcome.js";

/** One HTTP/2 connection, reopened when the server (or a bad request) ends it. */
export class H2Connection {
  private session: http2.ClientHttp2Session | undefined;

  constructor(private readonly baseUrl: string) {}

  private current(): http2.ClientHttp2Session {
    if (this.session === undefined || this.session.closed || this.session.destroyed) {
      const session = http2.connect(this.baseUrl, { maxSessionMemory: 64 });
      session.on("error", () => {}); // each stream reports its own failure
      session.on("goaway", () => session.close());
      session.unref();
      this.session = session;
    }
    return this.session;
  }

  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }

  send(request: HttpRequest, limits: Limits, openEnded: boolean): Promise<Outcome> {
    const headers: http2.OutgoingHttpHeaders = { ":method": request.method, ":path": request.path };
    for (const [name, value] of request.headers) {
      const existing = headers[name];
      headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [String(existing)]), value];
    }
    const started = performance.now();
    let stream: http2.ClientHttp2Stream;
    let session: http2.ClientHttp2Session;
    try {
      session = this.current();
      stream = session.request(headers, { endStream: false });
    } catch (error) {
      return Promise.resolve({ kind: "client-refused", error: String((error as Error).message ?? error) });
    }
    return new Promise<Outcome>((resolve) => {
      let responseHeaders: Headers | undefined;
      let trailers: Headers | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      let cutByClient = false;
      let settled = false;
      const done = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(cutoff);
        resolve(outcome);
      };
      const deadline = setTimeout(() => {
        done({
          kind: "hang",
          ms: performance.now() - started,
          partial:
            responseHeaders === undefined
              ? "no response headers"
              : `status ${String(responseHeaders[":status"])}, ${received} body bytes, no end`,
        });
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, limits.deadlineMs);
      let cutoff: NodeJS.Timeout | undefined;
      stream.on("response", (received) => {
        responseHeaders = received as Headers;
        if (openEnded) {
          cutoff = setTimeout(
            () => {
              cutByClient = true;
              stream.close(http2.constants.NGHTTP2_CANCEL);
            },
            Math.max(0, limits.openEndedMs - (performance.now() - started)),
          );
        }
      });
      stream.on("trailers", (received) => {
        trailers = received as Headers;
      });
      stream.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received <= 16 * 1024 * 1024) chunks.push(chunk);
      });
      stream.on("error", () => {}); // the close handler tells what happened
      stream.on("close", () => {
        const ms = performance.now() - started;
        // The connection went away (the server closed it or died): not an answer, whatever code node gives the stream.
        const connectionGone = (session.destroyed || session.closed) && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !cutByClient;
        if (connectionGone && trailers === undefined) {
          const what =
            responseHeaders === undefined
              ? "before a response"
              : `after status ${String(responseHeaders[":status"])} and ${received} body bytes`;
          done({ kind: "closed", error: `the connection ended ${what}`, ms });
          return;
        }
        if (responseHeaders === undefined) {
          if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR)
            done({ kind: "reset", code: stream.rstCode, ms });
          else done({ kind: "closed", error: `stream closed without a response (code ${String(stream.rstCode)})`, ms });
          return;
        }
        done({
          kind: "answer",
          status: Number(responseHeaders[":status"]),
          headers: responseHeaders,
          trailers,
          body: Buffer.concat(chunks),
          ms,
          cutByClient,
          rstCode: stream.rstCode,
        });
      });
      stream.end(request.body);
    });
  }
}

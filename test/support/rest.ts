import * as http from "node:http";
import * as http2 from "node:http2";

/** One REST answer, as curl would show it. */
export interface RestAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
}

export interface RestRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Sent as is; an object is sent as JSON with content-type: application/json (unless headers say otherwise). */
  readonly body?: string | object;
}

export type HttpVersion = "1.1" | "2";

/**
 * A curl-like client for REST routes over HTTP/1.1 (node:http, a new
 * connection per request unless keep-alive is asked for) or HTTP/2 (one
 * cleartext session, prior knowledge), with exactly the headers and body
 * given.
 */
export class RestClient {
  #session: http2.ClientHttp2Session | undefined;

  constructor(
    readonly port: number,
    readonly version: HttpVersion,
  ) {}

  request(path: string, options: RestRequest = {}): Promise<RestAnswer> {
    const { method = "GET", headers = {}, body } = options;
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const sent: Record<string, string> = { ...headers };
    if (typeof body === "object" && !Object.keys(sent).some((name) => name.toLowerCase() === "content-type"))
      sent["content-type"] = "application/json";
    return this.version === "1.1" ? this.#h1(method, path, sent, payload) : this.#h2(method, path, sent, payload);
  }

  get(path: string, headers: Record<string, string> = {}): Promise<RestAnswer> {
    return this.request(path, { headers });
  }

  /** Opens a streaming GET and hands each chunk of the body to `onChunk` as it arrives; `abort` cancels it (the client leaves). */
  stream(path: string, headers: Record<string, string>, onChunk: (text: string) => void): { answer: Promise<RestAnswer>; abort(): void } {
    if (this.version === "1.1") {
      const req = http.request({ host: "127.0.0.1", port: this.port, path, method: "GET", headers, agent: false });
      const answer = new Promise<RestAnswer>((resolve, reject) => {
        req.on("response", (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
            onChunk(chunk);
          });
          const done = () => resolve(answerOf(res.statusCode ?? 0, res.headers, text));
          res.on("end", done);
          res.on("close", done);
        });
        req.on("error", reject);
      });
      req.end();
      return { answer, abort: () => req.destroy() };
    }
    const stream = this.#sessionOf().request({ ":method": "GET", ":path": path, ...headers });
    const answer = new Promise<RestAnswer>((resolve, reject) => {
      let status = 0;
      let responseHeaders: http.IncomingHttpHeaders = {};
      let text = "";
      stream.setEncoding("utf8");
      stream.on("response", (received) => {
        status = Number(received[":status"]);
        responseHeaders = received;
      });
      stream.on("data", (chunk: string) => {
        text += chunk;
        onChunk(chunk);
      });
      stream.on("close", () => resolve(answerOf(status, responseHeaders, text)));
      stream.on("error", reject);
    });
    stream.end();
    return { answer, abort: () => stream.close(http2.constants.NGHTTP2_CANCEL) };
  }

  close(): void {
    this.#session?.close();
  }

  #h1(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<RestAnswer> {
    // Node's client frames a DELETE's body with neither length nor chunks unless told its length.
    const framed = body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
    return new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: this.port, path, method, headers: framed, agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve(answerOf(res.statusCode ?? 0, res.headers, text)));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  #h2(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<RestAnswer> {
    return new Promise((resolve, reject) => {
      // Node ends a GET's or DELETE's stream with its headers unless told there is a body.
      const stream = this.#sessionOf().request({ ":method": method, ":path": path, ...headers }, { endStream: body === undefined });
      let status = 0;
      let responseHeaders: http.IncomingHttpHeaders = {};
      let text = "";
      stream.setEncoding("utf8");
      stream.on("response", (received) => {
        status = Number(received[":status"]);
        responseHeaders = received;
      });
      stream.on("data", (chunk: string) => (text += chunk));
      stream.on("end", () => resolve(answerOf(status, responseHeaders, text)));
      stream.on("error", reject);
      stream.end(body);
    });
  }

  #sessionOf(): http2.ClientHttp2Session {
    if (this.#session === undefined || this.#session.closed || this.#session.destroyed) {
      this.#session = http2.connect(`http://127.0.0.1:${this.port}`);
      this.#session.on("error", () => {});
    }
    return this.#session;
  }
}

function answerOf(status: number, headers: http.IncomingHttpHeaders, text: string): RestAnswer {
  return { status, headers, text, json: <T>() => JSON.parse(text) as T };
}

/** The events of a text/event-stream body: each one's event name ("message" when none) and data. */
export function serverSentEvents(text: string): Array<{ event: string; data: string }> {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice("event: ".length);
        else if (line.startsWith("data: ")) data.push(line.slice("data: ".length));
      }
      return { event, data: data.join("\n") };
    });
}

import * as http from "node:http";
import type { HttpRequest } from "../case.js";
import type { Headers, Limits, Outcome } from "../outcome.js";

/** HTTP/1.1 with one keep-alive connection at a time, as a browser tab or curl would reuse it. */
export class H1Connection {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  close(): void {
    this.agent.destroy();
  }

  send(request: HttpRequest, limits: Limits, openEnded: boolean): Promise<Outcome> {
    const started = performance.now();
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: this.host,
        port: this.port,
        method: request.method,
        path: request.path,
        agent: this.agent,
        setHost: false,
      });
      const grouped = new Map<string, string[]>();
      for (const [name, value] of request.headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
      if (!grouped.has("host")) grouped.set("host", [`${this.host}:${this.port}`]);
      if (request.body.length > 0 && !grouped.has("content-length")) grouped.set("content-length", [String(request.body.length)]);
      for (const [name, values] of grouped) req.setHeader(name, values.length === 1 ? (values[0] as string) : values);
    } catch (error) {
      return Promise.resolve({ kind: "client-refused", error: String((error as Error).message ?? error) });
    }
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      let status: number | undefined;
      let received = 0;
      let cutoff: NodeJS.Timeout | undefined;
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
          partial: status === undefined ? "no response headers" : `status ${status}, ${received} body bytes, no end`,
        });
        req.destroy();
      }, limits.deadlineMs);
      req.on("response", (res) => {
        status = res.statusCode;
        const chunks: Buffer[] = [];
        let cutByClient = false;
        const finish = () =>
          done({
            kind: "answer",
            status: res.statusCode ?? 0,
            headers: res.headers as Headers,
            trailers: Object.keys(res.trailers).length > 0 ? (res.trailers as Headers) : undefined,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
            cutByClient,
          });
        if (openEnded) {
          cutoff = setTimeout(
            () => {
              cutByClient = true;
              req.destroy();
              finish();
            },
            Math.max(0, limits.openEndedMs - (performance.now() - started)),
          );
        }
        res.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received <= 16 * 1024 * 1024) chunks.push(chunk);
        });
        res.on("end", finish);
        res.on("error", () => {});
        res.on("close", () => {
          if (!res.complete && !cutByClient)
            done({
              kind: "closed",
              error: `connection closed after status ${res.statusCode}, ${received} body bytes`,
              ms: performance.now() - started,
            });
        });
      });
      req.on("error", (error) => {
        if (!settled && status === undefined) done({ kind: "closed", error: error.message, ms: performance.now() - started });
      });
      req.on("close", () => {
        if (!settled && status === undefined)
          done({ kind: "closed", error: "connection closed without a response", ms: performance.now() - started });
      });
      req.end(request.body.length > 0 ? request.body : undefined);
    });
  }
}

import { createHash } from "node:crypto";
import type { Logger } from "../logger.js";
import type { NodeRequest, NodeResponse, RequestHandler } from "../transport/http-handler.js";
import { pageHeaders } from "./static.js";

/** One form of the document, as sent. */
interface Representation {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** The document's URLs, and how each is written from the described API. */
const forms: ReadonlyMap<string, (document: object) => Promise<{ text: string; contentType: string }>> = new Map([
  ["/openapi.json", async (document: object) => ({ text: `${JSON.stringify(document, null, 2)}\n`, contentType: "application/json" })],
  [
    "/openapi.yaml",
    async (document: object) => {
      // Loaded on the first request for it: most servers never write YAML.
      const { stringify } = await import("yaml");
      // No anchors and aliases for objects used twice: not every tool follows them.
      return { text: stringify(document, { aliasDuplicateObjects: false }), contentType: "application/yaml" };
    },
  ],
]);

/**
 * Serves the OpenAPI description at /openapi.json and /openapi.yaml, as the
 * page's own files are served: GET and HEAD only, the page's security
 * headers, revalidated on every use (`no-cache`) with an ETag, so a cache
 * asks and gets 304 until the server starts with other contracts or other
 * access rules. The document is built on the first request for it (nothing
 * at start), then kept. Everything else goes to `otherwise`.
 */
export function withApiDescription({
  describe,
  otherwise,
  logger,
}: {
  /** The document, with access filled in (see api-description.ts). */
  describe: () => Promise<object>;
  otherwise: RequestHandler;
  logger: Logger;
}): RequestHandler {
  let described: Promise<object> | undefined;
  const cache = new Map<string, Promise<Representation>>();
  const representation = (path: string, write: (document: object) => Promise<{ text: string; contentType: string }>) => {
    let found = cache.get(path);
    if (found === undefined) {
      described ??= describe();
      found = described.then(write).then(({ text, contentType }) => {
        const body = Buffer.from(text);
        return {
          body,
          contentType: `${contentType}; charset=utf-8`,
          etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
        };
      });
      cache.set(path, found);
    }
    return found;
  };
  return (req, res) => {
    const path = req.url?.split("?", 1)[0] ?? "";
    const write = forms.get(path);
    if (write === undefined || (req.method !== "GET" && req.method !== "HEAD")) return otherwise(req, res);
    representation(path, write).then(
      (form) => send(req, res, form),
      (error: unknown) => {
        // A failure is not kept: the next request tries again.
        cache.delete(path);
        described = undefined;
        logger.error({ err: error, path }, "the API description could not be built");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("Internal Server Error\n");
      },
    );
  };
}

function send(req: NodeRequest, res: NodeResponse, { body, contentType, etag }: Representation): void {
  for (const [name, value] of Object.entries(pageHeaders)) res.setHeader(name, value);
  res.setHeader("cache-control", "no-cache");
  res.setHeader("etag", etag);
  if (matches(req.headers["if-none-match"], etag)) {
    res.writeHead(304);
    res.end();
    return;
  }
  res.writeHead(200, { "content-type": contentType, "content-length": body.byteLength });
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

/** If-None-Match's weak comparison: any listed tag, weak or not, or "*". */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed === etag || trimmed === `W/${etag}`;
  });
}

import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import sirv from "sirv";
import type { Logger } from "../logger.js";
import type { RequestHandler } from "../transport/http-handler.js";

/** Where `npm run build` puts the page: dist/web, beside the compiled dist/server. */
export const builtPageDir = fileURLToPath(new URL("../../web/", import.meta.url));

/**
 * What the page may load: its own scripts, styles and images, and calls to
 * this server. Nothing inline, nothing from elsewhere, no framing.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The API reference (/docs) differs in one word: Swagger UI's stylesheet
 * draws its icons as data: images (two dozen SVGs and PNGs), which cannot
 * run script. Its scripts and styles are the page's own files, like the
 * services page's.
 */
export const docsContentSecurityPolicy = contentSecurityPolicy.replace("img-src 'self'", "img-src 'self' data:");

/** Sent with every file of the page and with the 404; RPC responses never get them. */
export const pageHeaders: Readonly<Record<string, string>> = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Vite names the files under assets/ by their content hash, so they never change. */
const immutable = "public, max-age=31536000, immutable";
/** Everything else (index.html, the icon) may change with the next build: revalidate each time. */
const revalidate = "no-cache";

/** The pages by their addresses: the services at `/`, the API reference (Swagger UI) at `/docs`. */
const pages: ReadonlyMap<string, string> = new Map([
  ["/", "/index.html"],
  ["/docs", "/docs.html"],
]);
const docsPage = "/docs.html";

/**
 * Serves the built web page for requests that are not RPCs: GET and HEAD of
 * files that exist in the build, `/` as index.html and `/docs` as docs.html. Anything else goes to
 * `otherwise` (a 404, never the page, so a mistyped path is not answered with
 * HTML). The set of files is read once at start, so no request can reach a
 * file outside it.
 */
export function createPageHandler({
  logger,
  otherwise,
  dir = builtPageDir,
}: {
  logger: Logger;
  /** Answers every request the page does not: other methods, unknown paths. */
  otherwise: RequestHandler;
  /** The built page; dist/web unless a test says otherwise. */
  dir?: string;
}): RequestHandler {
  if (!existsSync(dir)) {
    logger.warn({ dir }, "web page not built, only RPCs are served: run `npm run build`");
    return otherwise;
  }
  const serve = sirv(dir, {
    etag: true,
    // Only exact files: no directory listings, no single-page fallback.
    extensions: [],
    dotfiles: false,
    setHeaders: (res, pathname) => {
      res.setHeader("cache-control", pathname.startsWith("/assets/") ? immutable : revalidate);
    },
  });
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return otherwise(req, res);
    for (const [name, value] of Object.entries(pageHeaders)) res.setHeader(name, value);
    const url = req.url ?? "";
    const [path = ""] = url.split("?", 1);
    const page = pages.get(path);
    if (page !== undefined) req.url = `${page}${url.slice(path.length)}`;
    if ((page ?? path) === docsPage) res.setHeader("content-security-policy", docsContentSecurityPolicy);
    // sirv is typed for HTTP/1 only; it uses the part of the API both versions share.
    serve(req as IncomingMessage, res as ServerResponse, () => otherwise(req, res));
  };
}

import { cors as connectCors } from "@connectrpc/connect";
import cors from "cors";
import type { RequestHandler } from "../transport/http-handler.js";

/** How long a browser may reuse a preflight answer before asking again. */
const preflightMaxAgeSeconds = 2 * 60 * 60;

/**
 * Lets pages on the allowed origins call the API from a browser. Headers and
 * methods are the ones the Connect, gRPC and gRPC-Web protocols need, as
 * published by connect-es, and REST's (PATCH and DELETE routes, the
 * `timeout` header). With no allowed origin the handler is returned
 * unchanged: no CORS headers at all, so browsers refuse cross-origin calls.
 */
export function withCors(handler: RequestHandler, allowedOrigins: readonly string[]): RequestHandler {
  if (allowedOrigins.length === 0) return handler;
  const corsMiddleware = cors({
    origin: allowedOrigins.includes("*") ? "*" : [...allowedOrigins],
    methods: [...connectCors.allowedMethods, "PATCH", "DELETE"],
    // Authorization carries bearer tokens; pages read how to authenticate
    // (WWW-Authenticate) and when to retry (Retry-After) from error answers.
    allowedHeaders: [...connectCors.allowedHeaders, "Authorization", "Timeout"],
    exposedHeaders: [...connectCors.exposedHeaders, "WWW-Authenticate", "Retry-After", "X-Request-Id", "ETag"],
    maxAge: preflightMaxAgeSeconds,
  });
  return (req, res) => corsMiddleware(req, res, () => handler(req, res));
}

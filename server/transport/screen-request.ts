import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { HostFilter, hostOf } from "../allowed-hosts.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { authorizationFields } from "./authorization-fields.js";
import { disarmOverlongDeadline } from "./deadline.js";
import { refuse, rejectGrpcWithoutTe } from "./grpc-answers.js";
import { headerListSize, rawHeaderListSize } from "./header-size.js";
import type { ErrorBody, RequestHandler } from "./http-handler.js";
import { checkRequestTarget, plainAuthority } from "./request-target.js";
import { ThrottledLog } from "./throttled-log.js";

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];

/** One listener's screening: its limits, the host names it answers for, and the log of the others. */
export interface Screening extends Pick<Config, "maxHeaderBytes" | "maxTimeoutMs"> {
  readonly hosts: HostFilter;
  readonly foreignHosts: ThrottledLog;
  /** How its refusals read on the paths whose protocol has an error body of its own (REST). */
  readonly errorBody: ErrorBody | undefined;
}

export function screening(
  config: Pick<Config, "maxHeaderBytes" | "maxTimeoutMs" | "allowedHosts">,
  logger: Logger,
  errorBody?: ErrorBody,
): Screening {
  return {
    errorBody,
    maxHeaderBytes: config.maxHeaderBytes,
    maxTimeoutMs: config.maxTimeoutMs,
    hosts: new HostFilter(config.allowedHosts),
    // A rebinding page can send these as fast as the browser allows.
    foreignHosts: new ThrottledLog(logger, "warn", "refused requests for a host name this server does not answer for (see ALLOWED_HOSTS)"),
  };
}

/**
 * What every request goes through before the application sees it: what the
 * application (connect-node) cannot take safely is refused here, in the form
 * the client's protocol understands, with a log line. Returns true when the
 * request was answered here.
 */
export function screenRequest(req: Request, res: Response, limits: Screening, logger: Logger): boolean {
  const badTarget = checkRequestTarget(req);
  if (badTarget !== undefined) {
    logger.info({ method: req.method, path: req.url, http: req.httpVersion, remoteAddress: req.socket.remoteAddress }, badTarget);
    refuse(req, res, 400, Code.InvalidArgument, badTarget, limits.errorBody);
    return true;
  }
  // checkRequestTarget found it present and valid (and filled in HTTP/1.0's).
  const authority = (req instanceof http2.Http2ServerRequest ? req.authority : req.headers.host) ?? "";
  if (!limits.hosts.allows(authority)) {
    const host = hostOf(authority);
    limits.foreignHosts.event({ host, path: req.url, http: req.httpVersion, remoteAddress: req.socket.remoteAddress });
    refuse(
      req,
      res,
      421,
      Code.PermissionDenied,
      `this server does not answer for the host name "${host}": call it by IP address or localhost, ` +
        "or have its operator add the name to ALLOWED_HOSTS",
      limits.errorBody,
    );
    return true;
  }
  if (authorizationFields(req.rawHeaders) > 1) {
    const message = 'the request has more than one "authorization" header: send one, "authorization: Bearer <token>"';
    logger.info({ path: req.url, http: req.httpVersion, remoteAddress: req.socket.remoteAddress }, message);
    refuse(req, res, 400, Code.InvalidArgument, message, limits.errorBody);
    return true;
  }
  // HTTP/1.1's limit is enforced by Node's parser (see h1-client-errors.ts).
  const headerBytes = headerListSize(req);
  if (headerBytes !== undefined && headerBytes > limits.maxHeaderBytes) {
    const message = `request headers are ${headerBytes} bytes, more than the ${limits.maxHeaderBytes} allowed`;
    logger.info({ path: req.url, http: req.httpVersion, remoteAddress: req.socket.remoteAddress }, message);
    refuse(req, res, 431, Code.ResourceExhausted, message, limits.errorBody);
    return true;
  }
  if (rejectGrpcWithoutTe(req, res)) {
    logger.info({ path: req.url, http: req.httpVersion }, 'refused a gRPC request without "te: trailers"');
    return true;
  }
  const overlong = disarmOverlongDeadline(req, limits.maxTimeoutMs);
  if (overlong !== undefined) {
    // connect-node answers it (INVALID_ARGUMENT); this line says why.
    logger.info(
      { path: req.url, http: req.httpVersion, header: overlong, maxTimeoutMs: limits.maxTimeoutMs },
      "refused a deadline over MAX_TIMEOUT_MS",
    );
  }
  return false;
}

/**
 * True when an HTTP/2 stream's head passes screenRequest with nothing to
 * say: a valid authority this server answers for, at most one Authorization
 * header, and a header list within MAX_HEADER_BYTES (the
 * fast path also requires `te: trailers` for gRPC, and a deadline connect-es
 * accepts). Any other stream goes through the compatibility path, where
 * screenRequest refuses it.
 */
export function plainStream(
  headers: Record<string, string | string[] | undefined>,
  rawHeaders: readonly string[],
  limits: Pick<Screening, "maxHeaderBytes" | "hosts">,
): boolean {
  const authority = headers[":authority"] ?? headers.host;
  const path = headers[":path"];
  return (
    typeof authority === "string" &&
    typeof path === "string" &&
    plainAuthority(authority, path) &&
    limits.hosts.allows(authority) &&
    authorizationFields(rawHeaders) <= 1 &&
    rawHeaderListSize(rawHeaders) <= limits.maxHeaderBytes
  );
}

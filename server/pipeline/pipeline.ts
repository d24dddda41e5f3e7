import type { ContextValues, Interceptor } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { createVerifier, type TokenVerifier } from "../auth/verifier.js";
import type { Config } from "../config.js";
import { cachingInterceptor } from "../interceptors/caching.js";
import { clientAddressInterceptor } from "../interceptors/client-address.js";
import { connectVersionInterceptor } from "../interceptors/connect-version.js";
import { errorMappingInterceptor } from "../interceptors/errors.js";
import { guardInterceptors } from "../interceptors/guards.js";
import { loggingInterceptor } from "../interceptors/logging.js";
import { requestIdInterceptor } from "../interceptors/request-id.js";
import { streamBudgetInterceptor } from "../interceptors/stream-budget.js";
import { streamEndInterceptor } from "../interceptors/stream-end.js";
import { validationInterceptor } from "../interceptors/validation.js";
import type { Logger } from "../logger.js";
import type { Observability } from "../observability.js";
import type { RateLimiters } from "../rate-limit/limiters.js";
import { StreamBudget } from "../rate-limit/stream-budget.js";
import { uploadDrainLimits } from "../transport/drain-request.js";
import { finishUploadFirst } from "../transport/finish-upload.js";
import { connectionOf, type NodeRequest } from "../transport/http-handler.js";
import { trustedProxies } from "../trusted-proxies.js";
import { RequestRules } from "../validation/request-rules.js";
import { tutorialViews } from "../validation/tutorial-views.js";
import { callValues } from "./call-values.js";
import { answerUnseenCalls, type UnseenCallReport, unseenCallReport } from "./unseen-calls.js";

/**
 * What every call goes through, whichever path serves it (connect-node's or
 * the fast path): built once here so the two cannot drift apart.
 */
export interface CallPipeline {
  /** Outermost first: tracing and metrics, then the server's own (see serverInterceptors). */
  readonly interceptors: readonly Interceptor[];
  /** Checks bearer tokens wherever they are required (calls, /metrics); undefined while authentication is off. */
  readonly verifier: TokenVerifier | undefined;
  /** The streaming calls open now, and the limits they are held to. */
  readonly streams: StreamBudget;
  /** Counts, traces and logs the calls that end before any interceptor runs, on either path. */
  readonly reportUnseen: UnseenCallReport;
  /**
   * connect-es's handler of one procedure, wrapped: it also answers and logs
   * the calls no interceptor sees, and reads the rest of a request it
   * answered early.
   */
  wrap(handler: UniversalHandler): UniversalHandler;
  /** The context values a call on connect-node's path starts with (the fast path's come from the same callValues). */
  nodeCallValues(req: NodeRequest): ContextValues;
}

export interface CallPipelineOptions {
  readonly config: Pick<Config, "auth" | "trustProxy" | "streamLimits" | "readMaxBytes">;
  readonly logger: Logger;
  readonly rateLimiters: RateLimiters;
  readonly observability: Observability | undefined;
}

export function callPipeline({ config, logger, rateLimiters, observability }: CallPipelineOptions): CallPipeline {
  // One verifier (one key-set cache) for every place a token is checked.
  const verifier = config.auth.mode === "jwt" ? createVerifier(config.auth, logger) : undefined;
  const guards = guardInterceptors(config.auth, verifier, rateLimiters, logger, observability?.metrics);
  const streams = new StreamBudget(config.streamLimits);
  const reportUnseen = unseenCallReport(logger, observability?.onUnseen);
  const drainLimits = uploadDrainLimits(config.readMaxBytes);
  return {
    verifier,
    interceptors: [...(observability?.interceptors ?? []), ...serverInterceptors(logger, guards, config.trustProxy, streams)],
    streams,
    reportUnseen,
    wrap: (handler) => finishUploadFirst(answerUnseenCalls(handler, reportUnseen), drainLimits),
    nodeCallValues: (req) =>
      callValues(
        {
          httpVersion: req.httpVersion,
          remoteAddress: req.socket.remoteAddress,
          connection: connectionOf(req),
        },
        req,
      ),
  };
}

/**
 * The server's own interceptors, outermost first: the log line shows the
 * status code the client receives. `guards` (authentication, authorization,
 * rate limits) run inside the error mapping, before caching and the handler;
 * the stream budget after them, so that it counts the authenticated caller
 * and a call refused by a guard holds no slot. Then the request's rules (its
 * contract's buf.validate options): a caller that may not call learns
 * nothing of them, and the handler sees only requests that meet them.
 */
export function serverInterceptors(
  logger: Logger,
  guards: Interceptor[] = [],
  trustProxy: readonly string[] = [],
  streams?: StreamBudget,
): Interceptor[] {
  return [
    // First: the log line and the rate limits count the client this names.
    clientAddressInterceptor(trustedProxies(trustProxy)),
    loggingInterceptor(logger),
    requestIdInterceptor(),
    connectVersionInterceptor(),
    errorMappingInterceptor(logger),
    ...guards,
    ...(streams === undefined ? [] : [streamBudgetInterceptor(streams)]),
    validationInterceptor(new RequestRules(tutorialViews)),
    cachingInterceptor(),
    streamEndInterceptor(),
  ];
}

import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { grantKey, principalKey } from "../auth/principal.js";
import { innerMap } from "../get-or-create.js";
import type { Logger } from "../logger.js";
import type { Protocol } from "../observability/rpc-attributes.js";
import { traceFields, traceIdsKey } from "../observability/trace-ids.js";
import { callStateKey } from "../pipeline/call-state.js";
import { requestInfoKey } from "../pipeline/request-info.js";
import { clientAddressKey } from "./client-address.js";
import { observeCall } from "./observe.js";
import { requestIdKey } from "./request-id.js";

/** Which of the three protocols a request speaks, from its HTTP method and content type. */
export function protocolOf(requestMethod: string, header: Headers): "grpc" | "grpc-web" | "connect" {
  const contentType = header.get("content-type") ?? "";
  if (requestMethod === "POST" && contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (requestMethod === "POST" && contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/** The protocol of a call an interceptor sees: REST when it came by a REST route (its request info says so), else from its HTTP method and content type. */
export function callProtocol(req: UnaryRequest | StreamRequest): Protocol {
  return req.contextValues.get(requestInfoKey).restRoute === undefined ? protocolOf(req.requestMethod, req.header) : "rest";
}

const serverFaults = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unavailable]);

/** What one call log line says, besides how it ended. */
export interface CallFacts {
  /** "/package.Service/Method", or the request path for a request no procedure answers. */
  readonly procedure: string;
  readonly protocol: Protocol;
  readonly http: string;
  readonly method: string;
  /** performance.now() when the call began. */
  readonly started: number;
  readonly requestId: string | undefined;
}

/**
 * Writes the one log line of a call: `info` for calls that went well or that
 * the client got wrong, `warn` for our own faults. When the error retells
 * another in other words (connect-es's "parse binary: premature EOF" behind
 * "the request message is not valid binary protobuf for …"), the original
 * wording is kept as `cause`. `extra` adds fields, such as the HTTP status of
 * a request refused before it became a call.
 */
export function logCall(logger: Logger, facts: CallFacts, error: unknown, extra: Record<string, unknown> = {}): void {
  const shape = { procedure: facts.procedure, protocol: facts.protocol, http: facts.http, method: facts.method };
  writeCallLine(logger, shape, facts, error, extra);
}

/** The fields of a call line that `logger` does not already carry, and its level and message. */
function writeCallLine(
  logger: Logger,
  shape: Omit<CallFacts, "started" | "requestId"> | undefined,
  facts: Pick<CallFacts, "started" | "requestId">,
  error: unknown,
  extra: Record<string, unknown>,
): void {
  const failure = error === undefined ? undefined : ConnectError.from(error);
  const retold = failure?.cause instanceof ConnectError && failure.cause.rawMessage !== failure.rawMessage ? failure.cause : undefined;
  const fields = {
    ...shape,
    code: failure === undefined ? "ok" : codeToString(failure.code),
    durationMs: Math.round((performance.now() - facts.started) * 10) / 10,
    requestId: facts.requestId,
    ...(retold === undefined ? {} : { cause: retold.rawMessage.slice(0, 300) }),
    ...extra,
  };
  const message = failure === undefined ? "call ok" : `call failed: ${failure.rawMessage}`;
  // A retold error explains a request the client got wrong, even where the
  // protocol prescribes INTERNAL for it (a compressed message with no encoding).
  if (failure !== undefined && serverFaults.has(failure.code) && retold === undefined) logger.warn(fields, message);
  else logger.info(fields, message);
}

/**
 * Child loggers that carry a call's procedure, protocol, HTTP version and
 * method, one per combination: pino writes a child's fields once, when it is
 * made, instead of on every line. Only calls of registered procedures get
 * one, so there are at most a few per procedure.
 */
class CallLoggers {
  readonly #children = new Map<DescMethod, Map<string, Map<string, Map<string, Logger>>>>();

  constructor(private readonly logger: Logger) {}

  /** Found level by level, with no closure made per call. */
  of(req: UnaryRequest | StreamRequest, protocol: CallFacts["protocol"], http: string): Logger {
    const method = req.requestMethod;
    const byMethod = innerMap(innerMap(innerMap(this.#children, req.method), protocol), http);
    let child = byMethod.get(method);
    if (child === undefined) {
      child = this.logger.child({ procedure: `/${req.service.typeName}/${req.method.name}`, protocol, http, method });
      byMethod.set(method, child);
    }
    return child;
  }
}

/**
 * One log line per call, written when the call ends (for streams: when the
 * stream ends). Calls that end before any interceptor sees them (a request
 * that cannot be read, a wrong content type) are logged by
 * `answerUnseenCalls` instead; this interceptor marks the calls it logs.
 */
export function loggingInterceptor(logger: Logger): Interceptor {
  const loggers = new CallLoggers(logger);
  return observeCall({
    onStart: (req) => {
      const state = req.contextValues.get(callStateKey);
      if (state !== undefined) state.seen = true;
      return performance.now();
    },
    onError: (error) => error,
    onEnd: (error, req, started) =>
      writeCallLine(
        loggers.of(req, callProtocol(req), req.contextValues.get(requestInfoKey).httpVersion),
        undefined,
        { started, requestId: req.contextValues.get(requestIdKey) },
        error,
        {
          // The audit trail: who made an authenticated call, and the scope that allowed a change; never the token.
          // `client`: the caller's address (behind TRUST_PROXY, the one the proxy forwarded).
          client: req.contextValues.get(clientAddressKey),
          principal: req.contextValues.get(principalKey)?.subject,
          scope: req.contextValues.get(grantKey),
          // The join with the call's trace, while tracing is on.
          ...traceFields(req.contextValues.get(traceIdsKey)),
        },
      ),
  });
}

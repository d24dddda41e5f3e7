import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { Logger } from "../logger.js";
import { observeCall } from "./observe.js";
import { requestIdKey } from "./request-id.js";
import { requestInfoKey } from "./request-info.js";

/** Which of the three protocols a request speaks, from its HTTP method and content type. */
export function protocolOf(requestMethod: string, header: Headers): "grpc" | "grpc-web" | "connect" {
  const contentType = header.get("content-type") ?? "";
  if (requestMethod === "POST" && contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (requestMethod === "POST" && contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}

const serverFaults = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unavailable]);

/** One log line per call, written when the call ends (for streams: when the stream ends). */
export function loggingInterceptor(logger: Logger): Interceptor {
  return (next) => (req) => {
    const started = performance.now();
    const { httpVersion } = req.contextValues.get(requestInfoKey);
    const log = (error: unknown) => {
      const code = error === undefined ? undefined : ConnectError.from(error).code;
      const fields = {
        procedure: `/${req.service.typeName}/${req.method.name}`,
        protocol: protocolOf(req.requestMethod, req.header),
        http: httpVersion,
        method: req.requestMethod,
        code: code === undefined ? "ok" : codeToString(code),
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        requestId: req.contextValues.get(requestIdKey),
      };
      const message = code === undefined ? "call ok" : `call failed: ${ConnectError.from(error).rawMessage}`;
      if (code !== undefined && serverFaults.has(code)) logger.warn(fields, message);
      else logger.info(fields, message);
    };
    return observeCall({ onError: (error) => error, onEnd: log })(next)(req);
  };
}

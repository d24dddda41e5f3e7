import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";

/**
 * `handle` in place of `handler`, serving the same route: connect-es looks a
 * handler's method, path and content types up on the handler itself, so a
 * wrapper must carry them.
 */
export function wrapHandler(
  handler: UniversalHandler,
  handle: (req: UniversalServerRequest) => Promise<UniversalServerResponse>,
): UniversalHandler {
  return Object.assign(handle, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}

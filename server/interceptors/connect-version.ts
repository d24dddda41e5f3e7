import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { preview } from "../domain/text.js";
import { callProtocol } from "./logging.js";

/**
 * The Connect protocol's version marker (`Connect-Protocol-Version: 1`, or
 * `connect=v1` on a GET) is optional here, so a hand-typed curl works; but a
 * request that names another version is refused, as connect-go does, rather
 * than answered under rules the client did not ask for.
 */
export function connectVersionInterceptor(): Interceptor {
  return (next) => (req) => {
    if (callProtocol(req) === "connect") {
      const [name, version, expected] =
        req.requestMethod === "GET"
          ? ["the query parameter connect", new URL(req.url).searchParams.get("connect"), "v1"]
          : ["the header connect-protocol-version", req.header.get("connect-protocol-version"), "1"];
      if (version !== null && version !== expected) {
        throw new ConnectError(`${name} must be "${expected}" (or left out), got "${preview(version)}"`, Code.InvalidArgument);
      }
    }
    return next(req);
  };
}

import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A Connect GET names its codec in `encoding` and carries its message in
 * `message` (base64url when `base64=1`). connect-es would refuse a missing
 * encoding with 415, take a missing message for an empty one, and answer
 * bad base64 with INTERNAL; connect-go answers all three with
 * INVALID_ARGUMENT, and so does this. An unknown encoding is left to
 * connect-es: 415, as for a POST with an unknown codec.
 */
export function checkGetQuery(query: URLSearchParams): ConnectError | undefined {
  const encoding = query.get("encoding");
  if (encoding === null) {
    return new ConnectError(
      "the encoding parameter is missing: a Connect GET names its codec in the URL, encoding=json or encoding=proto",
      Code.InvalidArgument,
    );
  }
  if (encoding !== "json" && encoding !== "proto") return undefined;
  const message = query.get("message");
  if (message === null) {
    return new ConnectError(
      "the message parameter is missing: a Connect GET carries its request message in the URL, e.g. ?encoding=json&message={}",
      Code.InvalidArgument,
    );
  }
  if (query.get("base64") === "1") {
    try {
      base64Decode(message);
    } catch {
      return new ConnectError("the message parameter is not valid base64url, as base64=1 says it is", Code.InvalidArgument);
    }
  }
  return undefined;
}

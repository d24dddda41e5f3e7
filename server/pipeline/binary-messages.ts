import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { createContextKey } from "@connectrpc/connect";

/**
 * A call's messages in binary protobuf, for the interceptors that need them
 * so (the metrics' message sizes, the Connect GET ETag). By default the
 * message is serialized each time it is asked for. A transport that has the
 * bytes already, or is about to make them, provides its own (the fast path
 * does): the request's size is the length it read, and a response is
 * serialized once for every interceptor and for the wire. A message must not
 * change once an interceptor has asked for its bytes.
 */
export interface BinaryMessages {
  requestSize<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): number;
  response<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array;
}

export const serializeEachTime: BinaryMessages = {
  requestSize: (schema, message) => toBinary(schema, message).byteLength,
  response: (schema, message) => toBinary(schema, message),
};

export const binaryMessagesKey = createContextKey<BinaryMessages>(serializeEachTime, {
  description: "the call's messages in binary protobuf",
});

import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type { BinaryMessages } from "../pipeline/binary-messages.js";
import type { CallPlan } from "./plan.js";
import { binaryRequestSize } from "./request-body.js";

type Message = MessageShape<DescMessage>;

/**
 * One call's messages in binary protobuf, for its interceptors and its
 * answer: the request's size is the length read (when it came as binary,
 * uncompressed), and the last response serialized for an interceptor is
 * kept until the answer writes it, so nothing is serialized twice.
 */
export class CallBinary implements BinaryMessages {
  #response: Message | undefined;
  #responseBytes: Uint8Array | undefined;

  constructor(
    private readonly plan: CallPlan,
    private readonly request: Message,
    private readonly body: Uint8Array,
  ) {}

  requestSize<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): number {
    const size = message === this.request ? binaryRequestSize(this.plan, this.body) : undefined;
    return size ?? toBinary(schema, message).byteLength;
  }

  response<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
    if (schema !== this.plan.entry.method.output) return toBinary(schema, message);
    if (message === this.#response && this.#responseBytes !== undefined) return this.#responseBytes;
    const bytes = this.plan.entry.serialization.getO(true).serialize(message);
    this.#response = message;
    this.#responseBytes = bytes;
    return bytes;
  }

  /** A response message in the call's encoding, as connect-node's serializer makes it. */
  serialize(message: Message): Uint8Array {
    if (this.plan.binary && message === this.#response && this.#responseBytes !== undefined) {
      const bytes = this.#responseBytes;
      this.#response = undefined;
      this.#responseBytes = undefined;
      return bytes;
    }
    return this.plan.entry.serialization.getO(this.plan.binary).serialize(message);
  }
}

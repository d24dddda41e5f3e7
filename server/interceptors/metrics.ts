import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { CallRecord, ServerMetrics } from "../observability/metrics.js";
import { type BinaryMessages, binaryMessagesKey } from "../pipeline/binary-messages.js";
import { requestInfoKey } from "../pipeline/request-info.js";
import { callProtocol } from "./logging.js";

/**
 * Counts every call an interceptor sees (the calls that end earlier are
 * counted by answerUnseenCalls): started, handled with the status the client
 * gets, latency, messages and their sizes, calls and streams in flight. It
 * runs outside the error mapping, beside the call log, so the status it
 * counts is the one the client receives and the one logged.
 */
export function metricsInterceptor(metrics: ServerMetrics): Interceptor {
  // Not an async function for unary calls: one promise and two closures, where an async frame cost twice the memory.
  return (next) => (req) => {
    const record = metrics.startCall({
      service: req.service.typeName,
      method: req.method.name,
      protocol: callProtocol(req),
      httpVersion: req.contextValues.get(requestInfoKey).httpVersion,
      streaming: req.stream,
    });
    const output = req.method.output;
    const binary = req.contextValues.get(binaryMessagesKey);
    const failed = (error: unknown): never => {
      record.end(error);
      throw error;
    };
    let answer: ReturnType<typeof next>;
    try {
      if (req.stream) {
        const input = req.method.input;
        answer = next({ ...req, message: counted(req.message, (message) => record.received(binary.requestSize(input, message))) });
      } else {
        record.received(binary.requestSize(req.method.input, req.message));
        answer = next(req);
      }
    } catch (error) {
      record.end(error);
      return Promise.reject(error);
    }
    return answer.then((res) => {
      if (!res.stream) {
        record.sent(serializedSize(binary, output, res.message, record));
        record.end(undefined);
        return res;
      }
      return { ...res, message: countedResponses(res.message, output, binary, record, req.signal) };
    }, failed);
  };
}

/**
 * A message's size on the wire. An answer that cannot be serialized fails its
 * call as INTERNAL (connect-node tells the client so): the record ends with
 * that status, and the error goes on unchanged.
 */
function serializedSize<Desc extends DescMessage>(
  binary: BinaryMessages,
  schema: Desc,
  message: MessageShape<Desc>,
  record: CallRecord,
): number {
  try {
    return binary.response(schema, message).byteLength;
  } catch (error) {
    record.end(ConnectError.from(error, Code.Internal));
    throw error;
  }
}

async function* counted<T>(messages: AsyncIterable<T>, onMessage: (message: T) => void): AsyncGenerator<T> {
  for await (const message of messages) {
    onMessage(message);
    yield message;
  }
}

/** The response stream, each message counted as it is sent; the call ends when the stream does (a stream abandoned midway with the signal's reason). */
async function* countedResponses<Desc extends DescMessage>(
  messages: AsyncIterable<MessageShape<Desc>>,
  schema: Desc,
  binary: BinaryMessages,
  record: CallRecord,
  signal: AbortSignal,
): AsyncGenerator<MessageShape<Desc>> {
  let outcome: unknown;
  try {
    for await (const message of messages) {
      record.sent(serializedSize(binary, schema, message, record));
      yield message;
    }
  } catch (error) {
    outcome = error;
    throw error;
  } finally {
    record.end(outcome ?? (signal.aborted ? signal.reason : undefined));
  }
}

/**
 * Runs `guard` and tells `onRejected` when it refuses a call itself (throws
 * before passing the call on); errors from further in are not its doing.
 */
export function countRejections(
  guard: Interceptor,
  onRejected: (error: unknown, req: Parameters<ReturnType<Interceptor>>[0]) => void,
): Interceptor {
  return (next) => {
    // Set in the call's own values when the guard lets it through (no weak set for the collector to trace).
    const passedKey = createContextKey(false, { description: "passed a guard" });
    const guarded = guard((req) => {
      req.contextValues.set(passedKey, true);
      return next(req);
    });
    return async (req) => {
      try {
        return await guarded(req);
      } catch (error) {
        if (!req.contextValues.get(passedKey)) onRejected(error, req);
        throw error;
      }
    };
  };
}

import type { Readable } from "node:stream";
import type { ContextKey, ContextValues } from "@connectrpc/connect";
import { nodeRequestKey } from "../transport/finish-upload.js";
import { type RequestInfo, requestInfoKey } from "./request-info.js";

/**
 * The context values every call starts with, on either path: the facts of
 * its HTTP request, and on connect-node's path the Node request, whose body
 * may need reading to its end after an early answer (see finishUploadFirst).
 */
export function callValues(info: RequestInfo, nodeRequest?: Readable): ContextValues {
  const values = new CallValues().set(requestInfoKey, info);
  return nodeRequest === undefined ? values : values.set(nodeRequestKey, nodeRequest);
}

/**
 * connect-es's createContextValues, as a class: the same behaviour (values
 * kept under their key's symbol, the key's default when absent), without
 * three new closures per call.
 */
class CallValues implements ContextValues {
  get<T>(key: ContextKey<T>): T {
    return key.id in this ? ((this as unknown as Record<symbol, T>)[key.id] as T) : key.defaultValue;
  }

  set<T>(key: ContextKey<T>, value: T): this {
    (this as unknown as Record<symbol, T>)[key.id] = value;
    return this;
  }

  delete(key: ContextKey<unknown>): this {
    delete (this as unknown as Record<symbol, unknown>)[key.id];
    return this;
  }
}

import type { Interceptor } from "@connectrpc/connect";
import { composeServerStream, composeUnary, type ServerStreamChain, type UnaryChain } from "./call.js";
import type { FastMethod } from "./methods.js";

/**
 * Each method's interceptor chain around its implementation, composed on the
 * method's first call from the pipeline's interceptors (the array
 * connect-node runs too). The fast path and REST (server/rest/) share one,
 * so whichever of them serves a call, it enters the pipeline once and the
 * same way.
 */
export class MethodChains {
  readonly #unary = new Map<FastMethod, UnaryChain>();
  readonly #serverStreams = new Map<FastMethod, ServerStreamChain>();

  constructor(private readonly interceptors: readonly Interceptor[]) {}

  unary(entry: FastMethod): UnaryChain {
    let chain = this.#unary.get(entry);
    if (chain === undefined) {
      chain = composeUnary(entry, this.interceptors);
      this.#unary.set(entry, chain);
    }
    return chain;
  }

  serverStream(entry: FastMethod): ServerStreamChain {
    let chain = this.#serverStreams.get(entry);
    if (chain === undefined) {
      chain = composeServerStream(entry, this.interceptors);
      this.#serverStreams.set(entry, chain);
    }
    return chain;
  }
}

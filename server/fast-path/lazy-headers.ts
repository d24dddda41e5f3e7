import type { IncomingHttpHeaders } from "node:http";
import { DeferredHeaders } from "./deferred-headers.js";

/**
 * The request's headers as the Fetch `Headers` interceptors and services
 * read, built from Node's header object only when something needs more than
 * `get` or `has`: a call whose interceptors only look up a few names never
 * pays for copying every header, nor for a Headers. Node's object already
 * has lowercase names and joins repeated fields as Headers does;
 * pseudo-headers are left out. It is a Headers to `instanceof`, and every
 * method but `get` and `has` is a real Headers' (made on first use).
 */
export class LazyHeaders extends DeferredHeaders {
  #source: IncomingHttpHeaders | undefined;
  #headers: Headers | undefined;

  constructor(source: IncomingHttpHeaders) {
    super();
    this.#source = source;
  }

  /** As the Headers it is (the typings cannot say so). */
  static of(source: IncomingHttpHeaders): Headers {
    return new LazyHeaders(source) as unknown as Headers;
  }

  get(name: string): string | null {
    const source = this.#source;
    if (source === undefined || typeof name !== "string") return this.real().get(name);
    const key = name.toLowerCase();
    if (key.startsWith(":")) return null;
    const value = source[key];
    if (value === undefined) return null;
    if (typeof value === "string") return value;
    // set-cookie, the one field Node keeps as an array, and that Headers joins too.
    return Array.isArray(value) ? value.join(", ") : String(value);
  }

  has(name: string): boolean {
    return this.#source === undefined ? this.real().has(name) : this.get(name) !== null;
  }

  set(name: string, value: string): void {
    this.real().set(name, value);
  }

  append(name: string, value: string): void {
    this.real().append(name, value);
  }

  delete(name: string): void {
    this.real().delete(name);
  }

  /** Node's headers copied into a real Headers, once, as connect-node's nodeHeaderToWebHeader does. */
  protected override real(): Headers {
    let real = this.#headers;
    if (real === undefined) {
      real = new Headers();
      const source = this.#source as IncomingHttpHeaders;
      for (const key in source) {
        if (key.startsWith(":")) continue;
        const value = source[key];
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const each of value) real.append(key, each);
        else real.append(key, String(value));
      }
      this.#source = undefined;
      this.#headers = real;
    }
    return real;
  }
}

import type { IncomingHttpHeaders } from "node:http";

/**
 * The request's headers as the Fetch `Headers` interceptors and services
 * read, built from Node's header object only when something needs more than
 * `get` or `has`: a call whose interceptors only look up a few names never
 * pays for copying every header. Node's object already has lowercase names
 * and joins repeated fields as Headers does; pseudo-headers are left out.
 */
/** Headers' methods as plain methods (the DOM typings declare them as properties, which a subclass cannot override). */
interface HeadersMethods {
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  delete(name: string): void;
  getSetCookie(): string[];
  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void;
  entries(): Iterator;
  keys(): ReturnType<Headers["keys"]>;
  values(): ReturnType<Headers["values"]>;
  [Symbol.iterator](): Iterator;
}
type Iterator = ReturnType<Headers["entries"]>;
const HeadersBase = Headers as unknown as new () => HeadersMethods;

export class LazyHeaders extends HeadersBase {
  #source: IncomingHttpHeaders | undefined;

  constructor(source: IncomingHttpHeaders) {
    super();
    this.#source = source;
  }

  /** As the Headers it is (the typings cannot say so). */
  static of(source: IncomingHttpHeaders): Headers {
    return new LazyHeaders(source) as unknown as Headers;
  }

  override get(name: string): string | null {
    const source = this.#source;
    if (source === undefined) return super.get(name);
    const key = name.toLowerCase();
    if (key.startsWith(":")) return null;
    const value = source[key];
    if (value === undefined) return null;
    if (typeof value === "string") return value;
    // set-cookie, the one field Node keeps as an array, and that Headers joins too.
    return Array.isArray(value) ? value.join(", ") : String(value);
  }

  override has(name: string): boolean {
    return this.#source === undefined ? super.has(name) : this.get(name) !== null;
  }

  override set(name: string, value: string): void {
    this.#fill();
    super.set(name, value);
  }

  override append(name: string, value: string): void {
    this.#fill();
    super.append(name, value);
  }

  override delete(name: string): void {
    this.#fill();
    super.delete(name);
  }

  override getSetCookie(): string[] {
    this.#fill();
    return super.getSetCookie();
  }

  override forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#fill();
    super.forEach(callback, thisArg);
  }

  override entries(): Iterator {
    this.#fill();
    return super.entries();
  }

  override keys(): ReturnType<Headers["keys"]> {
    this.#fill();
    return super.keys();
  }

  override values(): ReturnType<Headers["values"]> {
    this.#fill();
    return super.values();
  }

  override [Symbol.iterator](): Iterator {
    this.#fill();
    return super[Symbol.iterator]();
  }

  /** Copies Node's headers in, once, as connect-node's nodeHeaderToWebHeader does. */
  #fill(): void {
    const source = this.#source;
    if (source === undefined) return;
    this.#source = undefined;
    for (const key in source) {
      if (key.startsWith(":")) continue;
      const value = source[key];
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const each of value) super.append(key, each);
      else super.append(key, String(value));
    }
  }
}

import { type InspectOptionsStylized, inspect } from "node:util";

type Iterator = ReturnType<Headers["entries"]>;

/**
 * A Fetch `Headers` that makes the real one only when it is needed: a
 * subclass answers the common calls from what it holds, and `real()` gives
 * the Headers (made once) for everything else. It is a Headers to
 * `instanceof`; every method below is the real Headers'.
 */
export abstract class DeferredHeaders {
  /** The real Headers, made on the first call, holding the fields from then on. */
  protected abstract real(): Headers;

  getSetCookie(): string[] {
    return this.real().getSetCookie();
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.real().forEach((value, key) => {
      callback.call(thisArg, value, key, this as unknown as Headers);
    });
  }

  entries(): Iterator {
    return this.real().entries();
  }

  keys(): ReturnType<Headers["keys"]> {
    return this.real().keys();
  }

  values(): ReturnType<Headers["values"]> {
    return this.real().values();
  }

  [Symbol.iterator](): Iterator {
    return this.real()[Symbol.iterator]();
  }

  [inspect.custom](depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
    return show(this.real(), { ...options, depth });
  }
}

Object.setPrototypeOf(DeferredHeaders.prototype, Headers.prototype);

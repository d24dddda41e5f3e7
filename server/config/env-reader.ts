/**
 * Reads environment variables through their declarations in ./settings.ts:
 * a name that is not declared does not compile, and a variable's range and
 * default come from its declaration, so they cannot drift from the
 * documentation generated from it.
 */

import { type Setting, type SettingName, type Settings, settings } from "./settings.js";

/** A setting that cannot be used; its message names the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Env = Readonly<Record<string, string | undefined>>;

type NamesOfKind<Kind> = { [N in SettingName]: Settings[N] extends { readonly kind: Kind } ? N : never }[SettingName];
type IntegerName = NamesOfKind<"integer">;
type OneOfName = NamesOfKind<"oneOf">;
type BooleanName = NamesOfKind<"boolean">;
type ListName = NamesOfKind<"list">;
/** Settings that declare a default; the others need one computed by the caller. */
type WithDefault = { [N in SettingName]: Settings[N] extends { readonly default: unknown } ? N : never }[SettingName];
/** The words a one-of setting accepts, as a union type. */
export type ValueOf<N extends OneOfName> = Settings[N] extends { readonly values: readonly (infer V)[] } ? V : never;

export class EnvReader {
  constructor(private readonly env: Env) {}

  /** The value with blanks trimmed; undefined when unset or blank. */
  string(name: SettingName): string | undefined {
    const value = this.env[name]?.trim();
    return value === "" ? undefined : value;
  }

  /** The number set, else `fallback` (a default computed from other settings), else the declared default. */
  integer(name: IntegerName & WithDefault, fallback?: number): number;
  integer(name: IntegerName, fallback: number): number;
  integer(name: IntegerName, fallback?: number): number {
    const value = this.optionalInteger(name) ?? fallback ?? declaredDefault<number>(name);
    if (value === undefined) throw new Error(`${name} has no declared default: read it with optionalInteger`);
    return value;
  }

  /** The number set, or undefined when unset. */
  optionalInteger(name: IntegerName): number | undefined {
    const { min, max } = settings[name];
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  }

  /** A comma-separated list, blanks around entries ignored; undefined when unset. */
  list(name: ListName): string[] | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const entries = raw
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "");
    return entries.length > 0 ? entries : undefined;
  }

  boolean(name: BooleanName): boolean {
    const raw = this.string(name);
    if (raw === undefined) return settings[name].default;
    if (raw.toLowerCase() === "true") return true;
    if (raw.toLowerCase() === "false") return false;
    throw new ConfigError(`${name} must be one of true, false, got "${raw}"`);
  }

  /** A comma-separated list of web origins, or "*" alone for any origin. */
  origins(name: "ALLOWED_ORIGINS"): string[] {
    const entries = this.list(name) ?? [];
    if (entries.includes("*")) {
      if (entries.length > 1) throw new ConfigError(`${name}: "*" allows every origin and cannot be combined with others`);
      return ["*"];
    }
    for (const entry of entries) {
      if (!isOrigin(entry)) {
        throw new ConfigError(
          `${name}: "${entry}" is not an origin; write scheme://host[:port] without a path, e.g. "https://app.example.com"`,
        );
      }
    }
    return entries;
  }

  /** The word set (lower-cased), else `fallback` (a default computed from other settings), else the declared default. */
  oneOf<N extends OneOfName & WithDefault>(name: N, fallback?: ValueOf<N>): ValueOf<N>;
  oneOf<N extends OneOfName>(name: N, fallback: ValueOf<N>): ValueOf<N>;
  oneOf<N extends OneOfName>(name: N, fallback?: ValueOf<N>): ValueOf<N> {
    const value = this.optionalOneOf(name) ?? fallback ?? declaredDefault<ValueOf<N>>(name);
    if (value === undefined) throw new Error(`${name} has no declared default: read it with optionalOneOf`);
    return value;
  }

  /** The word set (lower-cased), or undefined when unset. */
  optionalOneOf<N extends OneOfName>(name: N): ValueOf<N> | undefined {
    const allowed: readonly string[] = settings[name].values;
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const match = allowed.find((candidate) => candidate === raw.toLowerCase());
    if (match === undefined) {
      throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
    }
    return match as ValueOf<N>;
  }
}

/** The default a setting declares, if any (some are computed by loadConfig from other settings). */
function declaredDefault<T>(name: SettingName): T | undefined {
  const setting: Setting = settings[name];
  return "default" in setting ? (setting.default as T) : undefined;
}

/** True for "http(s)://host[:port]" exactly as a browser sends it in the Origin header. */
function isOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.origin === text;
}

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { configurationPage, defaultCell, literalDefault, regenerateCommand, settingNames } from "../../scripts/lib/config-docs.js";
import { EnvReader } from "../../server/config/env-reader.js";
import { type Setting, settings } from "../../server/config/settings.js";
import { loadConfig } from "../../server/config.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");
const declared = new Set<string>(settingNames());

/** The names loadConfig looks up in `env`, whether set or not. */
function namesRead(env: Record<string, string>): Set<string> {
  const seen = new Set<string>();
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") seen.add(name);
      return typeof name === "string" ? target[name] : undefined;
    },
  });
  loadConfig(recording, false);
  return seen;
}

/** Between them, these take every branch of loadConfig that reads a variable. */
const environments: Record<string, Record<string, string>> = {
  defaults: {},
  PostgreSQL: { DATABASE_URL: "postgres://app@127.0.0.1:5432/shop" },
  "tokens from a JWKS": { AUTH_JWKS_URL: "https://idp.example.com/jwks.json", AUTH_AUDIENCE: "shop-api" },
  "tracing, shared OTLP variables": { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" },
  "tracing, traces-only OTLP variables": {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces",
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "1000",
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "gzip",
  },
};

describe("configuration documentation (docs/configuration.md)", () => {
  test("the page on disk is what the declarations in server/config/settings.ts generate", () => {
    const onDisk = read("docs/configuration.md");
    const expected = configurationPage();
    if (onDisk !== expected) {
      const lines = onDisk.split("\n");
      const first = expected.split("\n").findIndex((line, index) => line !== lines[index]);
      assert.fail(
        `docs/configuration.md differs from the setting declarations (first at line ${first + 1}): run \`${regenerateCommand}\` and commit the result`,
      );
    }
  });

  test("every declared variable has exactly one row, with a description and a default", () => {
    const page = configurationPage();
    for (const name of declared) {
      const rows = page.split("\n").filter((line) => line.startsWith(`| \`${name}\` |`));
      assert.equal(rows.length, 1, `${name} should have one row in docs/configuration.md`);
      assert.match(rows[0] ?? "", /^\| `[A-Z0-9_]+` \| [^|]+ \| .+\. \*.+\.\* \|$/, `${name}'s row`);
    }
  });

  test("a default described in words names the declared value", () => {
    for (const name of declared) {
      const setting: Setting = settings[name as keyof typeof settings];
      const literal = literalDefault(setting);
      if (setting.defaultText === undefined || literal === undefined) continue;
      assert.ok(setting.defaultText.includes(literal), `${name}: "${setting.defaultText}" should name its declared default ${literal}`);
    }
  });

  test("the row shows the range and the default loadConfig uses", () => {
    const page = configurationPage();
    assert.ok(page.includes("| `PORT` | `8080` | TCP port for every protocol"));
    assert.ok(page.includes("*A whole number, 0 to 65535.*"));
    assert.ok(page.includes("| `MAX_TIMEOUT_MS` | `300000` (5 min) |"));
    assert.ok(page.includes("| `HEAP_PROFILE` | `small` with the embedded database, `fast` with `DATABASE_URL` |"));
    const config = loadConfig({}, false);
    assert.equal(config.port, settings.PORT.default);
    assert.equal(config.maxTimeoutMs, settings.MAX_TIMEOUT_MS.default);
    assert.throws(() => loadConfig({ PORT: String(settings.PORT.max + 1) }), { message: new RegExp(`from 0 to ${settings.PORT.max},`) });
  });

  test("its links lead to pages and headings that exist", () => {
    const links = [...configurationPage().matchAll(/\]\(([a-z-]+\.md)(?:#([a-z0-9-]+))?\)/g)];
    assert.ok(links.length >= 10, "the topic pages are linked");
    for (const [, page = "", fragment] of links) {
      const headings = read(join("docs", page))
        .split("\n")
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => githubAnchor(line.replace(/^#+ /, "")));
      if (fragment !== undefined) assert.ok(headings.includes(fragment), `docs/${page} has no heading #${fragment}`);
    }
  });

  test("no other page keeps its own table of settings, which would drift", () => {
    const pages = readdirSync(join(root, "docs")).filter((file) => file.endsWith(".md") && file !== "configuration.md");
    for (const page of pages) {
      for (const line of read(join("docs", page)).split("\n")) {
        const name = /^\| `([A-Z][A-Z0-9_]*)`/.exec(line)?.[1];
        assert.ok(name === undefined || !declared.has(name), `docs/${page} has a row for ${name}: link to configuration.md instead`);
      }
    }
  });
});

describe("every environment variable the server reads is declared", () => {
  for (const [label, env] of Object.entries(environments)) {
    test(`loadConfig reads only declared variables (${label})`, () => {
      const undeclared = [...namesRead(env)].filter((name) => !declared.has(name));
      assert.deepEqual(undeclared, [], "declare these in server/config/settings.ts");
    });
  }

  test("every declared variable is read by loadConfig (no stale declarations)", () => {
    const seen = new Set(Object.values(environments).flatMap((env) => [...namesRead(env)]));
    const unread = [...declared].filter((name) => !seen.has(name));
    assert.deepEqual(unread, [], "declared but never read: remove them or read them");
  });

  test("the reader takes declared names only: anything else does not compile", () => {
    const reader = new EnvReader({ NOT_A_SETTING: "1", PORT: "1" });
    // @ts-expect-error: NOT_A_SETTING is not declared in server/config/settings.ts
    assert.equal(reader.string("NOT_A_SETTING"), "1");
    // @ts-expect-error: PORT is a number; reading it as a list would skip its range
    assert.deepEqual(reader.list("PORT"), ["1"]);
    assert.equal(reader.integer("PORT"), 1);
    assert.throws(
      // @ts-expect-error: METRICS_PORT declares no default, so a caller must give one (or read it with optionalInteger)
      () => reader.integer("METRICS_PORT"),
      /no declared default/,
    );
  });

  test("no module of the server reads process.env by name outside server/config", () => {
    const sources = readdirSync(join(root, "server"), { recursive: true, encoding: "utf8" }).filter(
      (file) => file.endsWith(".ts") && !file.startsWith("config"),
    );
    assert.ok(sources.length > 20, "the server's sources are found");
    for (const file of sources) {
      const text = read(join("server", file));
      assert.doesNotMatch(
        text,
        /process\.env\s*(\.|\[|\?)/,
        `server/${file} reads the environment: add a setting to server/config instead`,
      );
    }
  });
});

describe("README's Configuration table", () => {
  const section = /^## Configuration\n([\s\S]*?)^## /m.exec(read("README.md"))?.[1] ?? "";
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => line.split(" | "));

  test("lists declared variables only, and links to the full page", () => {
    assert.ok(rows.length >= 8, "the table is found");
    for (const [variables = ""] of rows) {
      for (const [, name = ""] of variables.matchAll(/`([A-Z0-9_]+)`/g))
        assert.ok(declared.has(name), `README names ${name}, which is not declared`);
    }
    assert.match(section, /\]\(docs\/configuration\.md\)/);
  });

  test("shows each variable's declared default", () => {
    for (const [variables = "", defaults = ""] of rows) {
      for (const [, name = ""] of variables.matchAll(/`([A-Z0-9_]+)`/g)) {
        const setting: Setting = settings[name as keyof typeof settings];
        for (const expected of expectedInReadme(setting)) {
          assert.ok(
            defaults.includes(expected),
            `README's default for ${name} is "${defaults}"; the declaration says ${defaultCell(setting)}`,
          );
        }
      }
    }
  });
});

/** What README's default cell must contain for a setting: its value, "unset", or the values its computed default names. */
function expectedInReadme(setting: Setting): string[] {
  if (setting.defaultText === undefined) return [literalDefault(setting) ?? "unset"];
  if (setting.defaultText.startsWith("unset")) return ["unset"];
  return [...setting.defaultText.matchAll(/`[^`]+`/g)].map(([code]) => code);
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
function githubAnchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replaceAll(" ", "-");
}

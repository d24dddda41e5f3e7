import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../server/config.js";

const origins = (value: string) => loadConfig({ ALLOWED_ORIGINS: value }, false).allowedOrigins;

describe("ALLOWED_ORIGINS", () => {
  test("unset or empty: no other origin may call the API", () => {
    assert.deepEqual(loadConfig({}, false).allowedOrigins, []);
    assert.deepEqual(origins(" "), []);
  });

  test("a comma-separated list of origins, spaces ignored", () => {
    assert.deepEqual(origins("https://app.example.com, http://localhost:5173,"), ["https://app.example.com", "http://localhost:5173"]);
  });

  test('"*" alone allows any origin', () => {
    assert.deepEqual(origins("*"), ["*"]);
    assert.throws(
      () => origins("*, https://a.example"),
      (error: unknown) => error instanceof ConfigError && /ALLOWED_ORIGINS.*"\*"/.test(error.message),
    );
  });

  test("anything that is not exactly an origin is refused, naming the variable and the entry", () => {
    for (const bad of [
      "https://app.example.com/",
      "https://app.example.com/page",
      "app.example.com",
      "ftp://files.example",
      "http://",
      "HTTP://LOCALHOST:80",
    ]) {
      assert.throws(
        () => origins(`http://ok.example, ${bad}`),
        (error: unknown) =>
          error instanceof ConfigError && error.message.startsWith("ALLOWED_ORIGINS") && error.message.includes(`"${bad}"`),
        bad,
      );
    }
  });
});

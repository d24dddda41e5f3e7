import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import { clientGone, mirrored, mirroredConnectVersion } from "../../server/fast-path/connect-mirror.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

for (const name of ["@connectrpc/connect", "@connectrpc/connect-node"]) {
  test(`the fast path mirrors the installed ${name}`, () => {
    const installed = installedVersion(name);
    assert.equal(
      installed,
      mirroredConnectVersion,
      `${name} ${installed} is installed, but the fast path copies connect-es ${mirroredConnectVersion}. ` +
        `Re-check each copy against the new version (see server/fast-path/connect-mirror.ts):\n` +
        mirrored.map(({ ours, theirs }) => `  server/fast-path/${ours}  <-  ${theirs}`).join("\n"),
    );
  });
}

test("every copy the mirror lists is where it says", () => {
  for (const { ours } of mirrored) {
    const [file = "", name = ""] = ours.split(" ");
    const source = readFileSync(join(root, "server/fast-path", file), "utf8");
    const symbol = name.split(".").at(-1) ?? name;
    assert.match(source, new RegExp(`(function\\*?|class|static) ${symbol}\\b`), `${ours}: no ${symbol} in server/fast-path/${file}`);
  }
});

test("a stream reset reads as connect-node reads it", () => {
  // RFC 9113 §7 codes: CANCEL (8), REFUSED_STREAM (7), ENHANCE_YOUR_CALM (11); none (the stream just closed).
  assert.equal(clientGone(8).code, Code.Canceled);
  assert.equal(clientGone(7).code, Code.Unavailable);
  assert.equal(clientGone(11).code, Code.ResourceExhausted);
  assert.equal(clientGone(11).rawMessage, "http/2 stream closed with error code ENHANCE_YOUR_CALM (0xb)");
  assert.equal(clientGone(undefined).code, Code.Canceled);
});

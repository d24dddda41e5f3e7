import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse } from "yaml";

// gen/ is not committed: every build makes it again, so the document cannot
// go stale. What must hold instead is that making it again gives the same
// bytes: replicas built apart then serve one document, with one ETag.

const root = new URL("../../../", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "openapi-generate-"));
after(() => rmSync(out, { recursive: true, force: true }));

interface Template {
  readonly plugins: ReadonlyArray<{ readonly local: string | string[]; readonly out: string }>;
}

test("buf generate, run again with the OpenAPI plugin alone, writes the very bytes the build did", () => {
  const template = parse(readFileSync(join(root, "buf.gen.yaml"), "utf8")) as Template;
  const plugin = template.plugins.find((entry) => [entry.local].flat().some((part) => part.includes("protoc-gen-openapi")));
  assert.ok(plugin, "buf.gen.yaml runs tools/protoc-gen-openapi");
  const alone = { version: "v2", inputs: [{ directory: "proto" }], plugins: [{ ...plugin, out: join(out, "openapi") }] };
  const run = spawnSync(join(root, "node_modules", ".bin", "buf"), ["generate", "--template", JSON.stringify(alone)], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  const again = readFileSync(join(out, "openapi", "openapi.json"));
  assert.ok(again.equals(readFileSync(join(root, "gen", "openapi", "openapi.json"))), "the same bytes");
});

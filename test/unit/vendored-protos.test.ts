import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

// third_party/googleapis keeps a copy so buf can treat it as a module; the
// installed google-proto-files is where it came from, and an upgrade of the
// package must bring the copy along.
for (const file of ["google/api/annotations.proto", "google/api/http.proto"]) {
  test(`third_party/googleapis/${file} is the installed google-proto-files' copy`, () => {
    const vendored = readFileSync(join(root, "third_party/googleapis", file), "utf8");
    const installed = readFileSync(join(root, "node_modules/google-proto-files", file), "utf8");
    assert.equal(
      vendored,
      installed,
      `copy node_modules/google-proto-files/${file} to third_party/googleapis/ and check the README's version`,
    );
  });
}

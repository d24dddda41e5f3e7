import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileErrors, validate } from "@readme/openapi-parser";

/**
 * Validates an OpenAPI document with @readme/openapi-parser, failing with
 * its report, warnings included. The parser reads files (its resolver will
 * not fetch from loopback addresses), so the document goes through one.
 */
export async function assertValidOpenApi(document: object): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "openapi-"));
  try {
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(document));
    const result = await validate(file);
    assert.ok(result.valid, result.valid ? "" : compileErrors(result));
    assert.deepEqual(result.warnings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

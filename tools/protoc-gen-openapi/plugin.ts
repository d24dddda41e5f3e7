import { createEcmaScriptPlugin } from "@bufbuild/protoplugin";
import { openApiDocument } from "./document.js";
import { findHttpOption } from "./http-rule.js";

interface Options {
  /** The protobuf packages whose services the document describes (`package=movie.v1`, repeated). */
  readonly packages: readonly string[];
  readonly title: string;
  readonly version: string;
  /** Where the document goes, under the plugin's `out`. */
  readonly file: string;
}

function parseOptions(raw: ReadonlyArray<{ key: string; value: string }>): Options {
  const packages: string[] = [];
  let title = "API";
  let version = "1";
  let file = "openapi.json";
  for (const { key, value } of raw) {
    if (key === "package") packages.push(value);
    else if (key === "title") title = value;
    else if (key === "version") version = value;
    else if (key === "file") file = value;
    else throw new Error(`unknown option "${key}" (known: package, title, version, file)`);
  }
  if (packages.length === 0) throw new Error('no package to describe: add "package=<name>" options');
  return { packages, title, version, file };
}

/**
 * protoc-gen-openapi: one OpenAPI 3.1 document for the services of the
 * packages it is given, written as JSON. Run by `buf generate` with
 * `strategy: all`, so one request holds every file. The document says what
 * the contracts say; who may call what is the server's to add (see
 * server/openapi/document.ts).
 */
export const protocGenOpenApi = createEcmaScriptPlugin<Options>({
  name: "protoc-gen-openapi",
  version: "v1",
  parseOptions,
  generateTs(schema) {
    const wanted = new Set(schema.options.packages);
    const files = schema.files.filter((file) => wanted.has(file.proto.package));
    // buf generate runs the plugin once per input: the others hold none of the packages.
    if (files.length === 0) return;
    const missing = [...wanted].filter((name) => !files.some((file) => file.proto.package === name));
    if (missing.length > 0) throw new Error(`no file to generate is in package ${missing.join(", ")}`);
    const document = openApiDocument(
      files.flatMap((file) => file.services),
      { title: schema.options.title, version: schema.options.version, httpOption: findHttpOption(schema.allFiles) },
    );
    schema.generateFile(schema.options.file).print(JSON.stringify(document, null, 2));
  },
});

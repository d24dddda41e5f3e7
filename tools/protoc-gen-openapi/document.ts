import type { DescExtension, DescService } from "@bufbuild/protobuf";
import { commentOf } from "./comments.js";
import { connectPathItem } from "./connect-operations.js";
import { errorResponses, errorSchemas, protocolParameters } from "./errors.js";
import { type HttpBinding, httpBindings } from "./http-rule.js";
import type { Document, PathItem } from "./openapi.js";
import { restOperation } from "./rest-operations.js";
import { SchemaCollector } from "./schemas.js";

export interface DocumentOptions {
  readonly title: string;
  readonly version: string;
  /** The google.api.http option as the request declares it; undefined when no contract uses it. */
  readonly httpOption: DescExtension | undefined;
}

const overview = [
  "Every method is reachable two ways on the same port:",
  "",
  "- **REST routes** from the contracts' `google.api.http` annotations: path and query parameters, JSON bodies, server streams as a JSON array, NDJSON or Server-Sent Events. Errors are `google.rpc.Status` objects.",
  "- **Connect endpoints** for unary methods, `POST /package.Service/Method` with the request as JSON, and `GET` with `?encoding=json&message=...` for methods free of side effects. Errors are Connect error objects.",
  "",
  "Bodies and answers use the proto3 JSON mapping: 64-bit integers are strings, timestamps RFC 3339, enums their value names.",
].join("\n");

/** The OpenAPI document of `services`: their REST routes and Connect endpoints, and every schema those use. */
export function openApiDocument(services: readonly DescService[], options: DocumentOptions): Document {
  const schemas = new SchemaCollector();
  const paths: Record<string, PathItem> = {};
  const add = (path: string, item: PathItem, where: string) => {
    const existing = paths[path] ?? {};
    for (const method of Object.keys(item) as Array<keyof PathItem>) {
      if (existing[method] !== undefined) throw new Error(`${where}: ${method.toUpperCase()} ${path} is declared twice`);
    }
    paths[path] = { ...existing, ...item };
  };
  for (const service of services) {
    for (const method of service.methods) {
      const where = `${service.typeName}.${method.name}`;
      httpBindings(method, options.httpOption).forEach((binding: HttpBinding, index) => {
        const { path, operation } = restOperation(method, binding, index, schemas);
        add(path, { [binding.method]: operation }, where);
      });
      const connect = connectPathItem(method, schemas);
      if (connect !== undefined) add(connect.path, connect.item, where);
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: options.title, version: options.version, description: overview },
    tags: services.map((service) => {
      const description = commentOf(service);
      return { name: service.typeName, ...(description === undefined ? {} : { description }) };
    }),
    paths,
    components: {
      schemas: { ...schemas.components(), ...errorSchemas },
      parameters: { ...protocolParameters },
      responses: { ...errorResponses },
    },
  };
}

/**
 * The parts of OpenAPI 3.1 this generator writes, typed so a misspelt key
 * does not compile. JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses) is
 * open-ended, so Schema lists the keywords written here and nothing more.
 */

export interface Schema {
  $ref?: string;
  type?: "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
  items?: Schema;
  enum?: Array<string | number | boolean>;
  const?: string | number | boolean;
  not?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  contentEncoding?: string;
  contentMediaType?: string;
  contentSchema?: Schema;
  examples?: unknown[];
  /** The CEL rules of buf.validate that have no JSON Schema keyword: their ids and expressions, for tools. */
  "x-buf-validate-cel"?: Array<{ id: string; expression: string; message?: string }>;
}

export interface MediaType {
  schema: Schema;
}

export type Content = Record<string, MediaType>;

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  description?: string;
  required?: boolean;
  schema: Schema;
  style?: "form" | "simple";
  explode?: boolean;
}

export interface Reference {
  $ref: string;
}

export interface Response {
  description: string;
  content?: Content;
}

export interface RequestBody {
  description?: string;
  required?: boolean;
  content: Content;
}

export interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags: string[];
  parameters?: Array<Parameter | Reference>;
  requestBody?: RequestBody;
  responses: Record<string, Response | Reference>;
  /**
   * The RPC this operation calls, as "package.Service.Method": the server
   * finds the method's access rule by it and fills in `security`.
   */
  "x-rpc-method": string;
  /** How the operation reaches the RPC: a google.api.http route, or the Connect protocol. */
  "x-rpc-protocol": "rest" | "connect";
}

export type HttpMethod = "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace";

export type PathItem = Partial<Record<HttpMethod, Operation>>;

export interface Tag {
  name: string;
  description?: string;
}

export interface Document {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string };
  tags: Tag[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, Schema>;
    parameters: Record<string, Parameter>;
    responses: Record<string, Response>;
  };
}

/** A reference to a schema in components.schemas. */
export function schemaRef(name: string): Schema {
  return { $ref: `#/components/schemas/${name}` };
}

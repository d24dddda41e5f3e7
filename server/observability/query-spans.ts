import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { QueryObserver } from "./database.js";
import type { Tracing } from "./tracing.js";

/** Longest query text a span carries; Kysely's queries are parameterized, so the text holds no values. */
const maxQueryText = 2_000;

/**
 * A client span per database query made inside a traced call (a query with
 * no call around it, like the LISTEN connection's, gets none), named after
 * its operation, child of the call's span.
 */
export function querySpans(tracing: Tracing): QueryObserver {
  return async (query, run) => {
    const parent = context.active();
    if (trace.getSpan(parent) === undefined) return run();
    const span = tracing.tracer.startSpan(
      query.operation,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "db.system.name": query.system,
          "db.operation.name": query.operation,
          "db.query.text": query.text.slice(0, maxQueryText),
        },
      },
      parent,
    );
    try {
      return await context.with(trace.setSpan(parent, span), run);
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      span.setAttribute("error.type", typeof code === "string" ? code : error instanceof Error ? error.constructor.name : "_OTHER");
      if (typeof code === "string") span.setAttribute("db.response.status_code", code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message.slice(0, 300) : undefined });
      throw error;
    } finally {
      span.end();
    }
  };
}

import { createContextKey } from "@connectrpc/connect";

/** The trace and span of a call, once the tracing interceptor has started its span (for the call's log line). */
export interface TraceIds {
  readonly traceId: string;
  readonly spanId: string;
}

/** Undefined while tracing is off: the call log then carries no trace fields, and nothing of OpenTelemetry is loaded. */
export const traceIdsKey = createContextKey<TraceIds | undefined>(undefined, { description: "trace ids" });

/** The log fields that join a log line to its trace: `trace_id` and `span_id`, as the OpenTelemetry log data model names them. */
export function traceFields(ids: TraceIds | undefined): { trace_id?: string; span_id?: string } {
  return ids === undefined ? {} : { trace_id: ids.traceId, span_id: ids.spanId };
}

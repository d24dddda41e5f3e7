/*
 * Everything that needs OpenTelemetry, in one module the server imports only
 * when tracing is on (see createObservability).
 */
export { tracingInterceptor, unseenCallSpans } from "./interceptors/tracing.js";
export { querySpans } from "./observability/query-spans.js";
export { startTracing } from "./observability/tracing.js";

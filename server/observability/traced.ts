/*
 * Everything that needs OpenTelemetry, in one module the server imports only
 * when tracing is on (see createObservability).
 */
export { tracingInterceptor, unseenCallSpans } from "../interceptors/tracing.js";
export { querySpans } from "./query-spans.js";
export { startTracing } from "./tracing.js";

import type { connectNodeAdapter } from "@connectrpc/connect-node";

/**
 * A handler for both HTTP/1.1 and HTTP/2 requests (what connect-node returns).
 * It lives in this leaf, apart from the app that builds one, so the listener
 * and every wrapper of a handler can name it without importing the app.
 */
export type RequestHandler = ReturnType<typeof connectNodeAdapter>;

import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** The running server that `npm run dev:web` sends RPCs to. */
const apiUrl = process.env.API_URL ?? "http://localhost:8080";

/**
 * RPC paths look like /calculator.v1.CalculatorService/SquareRoot (plus a
 * query string for Connect GET); everything else is the page's own modules.
 */
const rpcPath = "^/[A-Za-z_]\\w*(\\.\\w+)+/[A-Za-z_]\\w*(\\?|$)";
/** The API description, which /docs reads. */
const descriptionPath = "^/openapi\\.(json|yaml)$";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    // No data: URLs: the page's Content-Security-Policy allows only its own files.
    assetsInlineLimit: 0,
    // Swagger UI is one prebuilt bundle of some 1.6 MB (440 kB gzipped),
    // loaded by /docs alone: warn only past it.
    chunkSizeWarningLimit: 1700,
    rolldownOptions: {
      // Two pages: the services (/) and the API reference (/docs, Swagger UI).
      input: {
        main: fileURLToPath(new URL("index.html", import.meta.url)),
        docs: fileURLToPath(new URL("docs.html", import.meta.url)),
      },
    },
  },
  server: {
    proxy: { [rpcPath]: { target: apiUrl }, [descriptionPath]: { target: apiUrl } },
  },
});

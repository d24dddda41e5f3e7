import "swagger-ui-dist/swagger-ui.css";
import SwaggerUI from "swagger-ui-dist/swagger-ui-es-bundle.js";

// Swagger UI, bundled from its npm package into the page's own files: the
// reference works offline and inside the page's Content-Security-Policy.
// "Try it out" calls this same server (the description names no other).
const root = document.getElementById("api-reference");
if (root === null) throw new Error('docs.html lacks the element with id "api-reference"');
SwaggerUI({
  url: "/openapi.json",
  domNode: root,
  deepLinking: true,
  defaultModelsExpandDepth: 0,
});

/**
 * swagger-ui-dist ships its bundles without types; this is the one call the
 * page makes (options as swagger-ui documents them).
 */
declare module "swagger-ui-dist/swagger-ui-es-bundle.js" {
  export default function SwaggerUI(options: {
    url: string;
    domNode: HTMLElement;
    deepLinking?: boolean;
    tryItOutEnabled?: boolean;
    persistAuthorization?: boolean;
    displayOperationId?: boolean;
    defaultModelsExpandDepth?: number;
  }): unknown;
}

# syntax=docker/dockerfile:1
# connect-polyglot-server: build with every dependency, run with production
# dependencies only, as a non-root user. scripts/build-production.mjs runs
# these very steps without Docker (CI has no Docker engine): keep to FROM,
# WORKDIR, COPY, RUN, ENV and the metadata instructions it understands.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The workspace holding openapi-typescript (with the TypeScript 5 it needs),
# which the build runs; npm ci installs a workspace only if it is there.
COPY tools/openapi-typescript/package.json ./tools/openapi-typescript/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/server ./dist/server
COPY --from=build /app/dist/gen ./dist/gen
COPY --from=build /app/dist/web ./dist/web
# Every interface of the container; authentication must then be configured
# (AUTH_JWT_SECRET or AUTH_JWKS_URL, with AUTH_AUDIENCE), or AUTH_MODE=off chosen explicitly.
ENV HOST=0.0.0.0 PORT=8080 LOG_FORMAT=json SHUTDOWN_GRACE_MS=10000
USER node
EXPOSE 8080
# /readyz: 200 while the server should get traffic, 503 while it drains or
# its database is away (with TLS_CERT set, probe https instead).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM starts the graceful drain (SHUTDOWN_GRACE_MS, then 1 s to flush):
# give the container longer than that before SIGKILL, e.g.
# `docker stop --time 15` or compose's stop_grace_period: 15s.
STOPSIGNAL SIGTERM
CMD ["node", "dist/server/main.js"]

# One image for every app of the monorepo; APP picks which one runs:
#   api (the whole platform in one process), order, inventory, payment, email, loyalty, analytics.
#
#   docker build -t nest-streams-platform .
#   docker run --rm -e APP=payment -e REDIS_URL=redis://host:6379 -p 3003:3000 nest-streams-platform
#
# See docker-compose.yml for every service as its own container.

# ---- build: all dev dependencies, compile every app -------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
COPY scripts/build-console.js ./scripts/

# Every app lands at dist/apps/<app>/src/main.js (libs at dist/libs/..., imports rewritten to
# relative paths). NOTE: tsconfig.build.json includes apps/** and libs/**, so each `nest build`
# compiles all of them, and nest-cli.json's deleteOutDir empties dist/ first: the loop is
# redundant but keeps this file right if the apps ever get tsconfigs of their own. The check at
# the end fails the build if any entry file is missing.
ARG APPS="api order inventory payment email loyalty analytics"
RUN set -e; \
    for app in $APPS; do npx nest build "$app"; done; \
    for app in $APPS; do test -f "dist/apps/$app/src/main.js" || { echo "missing dist/apps/$app/src/main.js" >&2; exit 1; }; done
# The operations console the api serves at /console (apps/api/console, bundled by esbuild).
RUN node scripts/build-console.js && test -f dist/console/index.html

# ---- runtime: production dependencies and dist/ only -------------------------------------------
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY --from=build /app/dist ./dist

# Which app this container runs (overridable at run time with -e APP=...), and its HTTP port.
ARG APP=api
ENV APP=${APP} \
    PORT=3000
EXPOSE 3000

# The image's `node` user (uid 1000): the apps write nothing to disk.
USER node

# No curl in slim: Node 20's fetch. Swagger's JSON answers once the app listens.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# exec: node is PID 1 and gets SIGTERM itself (graceful shutdown: finish in-flight events, ack, close).
CMD ["sh", "-c", "test -f \"dist/apps/$APP/src/main.js\" || { echo \"APP=$APP is not an app of this image (api, order, inventory, payment, email, loyalty, analytics)\" >&2; exit 1; }; exec node --enable-source-maps \"dist/apps/$APP/src/main.js\""]

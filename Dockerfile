# syntax=docker/dockerfile:1
# Vigil's image: compiled in one stage, run from another that holds only production dependencies
# and dist/. test/e2e/container.test.ts performs these same steps (parsed from this file) on the
# host, so keep every RUN to the commands it knows how to emulate (npm, mkdir, chown, chmod, useradd).
#
#   docker build -t vigil .
#   docker run --init -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN -e DATABASE_URL -e REDIS_URL -p 3000:3000 vigil
# (With --env-file, leave HOST out of the file: an empty HOST= there would replace the 0.0.0.0 below.)
#
# Slack must be configured (SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN): without
# it Vigil would open its terminal shell, and with a container's empty stdin it stops at once, saying why.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
# Type-checked: a type error fails the image build.
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
# The npm cache lives in a build cache mount, not in a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /build/dist ./dist
# The app is root-owned and read-only to Vigil; .vigil/ (audit spool) is the one place it writes.
# A numeric USER lets Kubernetes' runAsNonRoot verify it; useradd gives the uid a name.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin vigil \
 && mkdir .vigil \
 && chown 10001:10001 .vigil \
 && chmod 700 .vigil
USER 10001:10001
EXPOSE 3000
# Liveness of the process (/healthz); /readyz (Postgres, Redis) is for load balancers and orchestrators.
# node, not curl: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself, exec form: SIGTERM from `docker stop` reaches Vigil, which drains and exits 0.
# (`npm start` would rebuild a stale dist/ and needs a shell; run with --init to reap action children.)
CMD ["node", "dist/main.js"]

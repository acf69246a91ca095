# syntax=docker/dockerfile:1
# mxspool production image: build with the dev dependencies, ship only dist/ and the
# production node_modules, run as the unprivileged `node` user.
#   docker build -t mxspool .
#   docker run -v $PWD/mxspool.yaml:/etc/mxspool/mxspool.yaml:ro -e REDIS_URL=redis://... -p 25:25 mxspool
# (docker-compose.yml runs it with Redis, clamd and spamd.)
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY queues ./queues
COPY policies ./policies
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && test -f dist/src/cli/main.js

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MXSPOOL_CONFIG=/etc/mxspool/mxspool.yaml \
    MXSPOOL_HEALTH_URL=http://127.0.0.1:8025/api/health
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY policies/mxspool.example.yaml /etc/mxspool/mxspool.example.yaml
# dataDir of docker/mxspool.yaml; owned by the runtime user so a fresh volume is writable
RUN install -d -o node -g node -m 750 /var/lib/mxspool

# Port 25 as a non-root user: Docker (20.10+) lets unprivileged processes bind low ports in
# a container's own network namespace (net.ipv4.ip_unprivileged_port_start=0, which
# docker-compose.yml also sets explicitly).
USER node
EXPOSE 25 8025
STOPSIGNAL SIGTERM
# GET /api/health answers 200 while Redis answers (a down primary is reported, not unhealthy).
# http.listen must be reachable at 127.0.0.1:8025 inside the container (0.0.0.0:8025).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.MXSPOOL_HEALTH_URL,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
# the supervisor's memory settings (policies/process-memory.ts, SUPERVISOR_LAUNCH)
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "--max-semi-space-size=4", "--max-old-space-size=1024", "--initial-old-space-size=64", "dist/src/cli/main.js"]
CMD ["start", "--config", "/etc/mxspool/mxspool.yaml"]

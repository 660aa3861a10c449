# syntax=docker/dockerfile:1
# Multi-stage build of the IRP server (apps/server) with the admin console.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY apps/server/package.json apps/server/
COPY apps/admin-ui/package.json apps/admin-ui/
COPY apps/cli/package.json apps/cli/
COPY libs/irp-protocol/package.json libs/irp-protocol/
COPY libs/irp-client/package.json libs/irp-client/
COPY libs/pki/package.json libs/pki/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production IRP_DATA_DIR=/var/lib/irp
WORKDIR /app
RUN useradd --system --uid 4604 --home /var/lib/irp irp && mkdir -p /var/lib/irp && chown irp /var/lib/irp
# jemalloc instead of glibc's malloc: the native memory of many TLS sessions fragments
# glibc's heap less under it (docs/performance.md, figure 8: 57 → 46 KiB of RSS per idle
# session in one run); linked to one path on every architecture
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 \
  && rm -rf /var/lib/apt/lists/* \
  && ln -s "$(dpkg -L libjemalloc2 | grep '/libjemalloc\.so\.2$')" /usr/local/lib/libjemalloc.so.2
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
COPY --from=build --chown=root:root /src /app
USER irp
EXPOSE 4604 8080
VOLUME ["/var/lib/irp"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "apps/server/dist/main.js"]

# Multi-stage build: compile the single binary with Bun, ship it on a small base as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json bunfig.toml ./
COPY src ./src
RUN npx bun build --compile --minify --bytecode --format=esm src/main.ts --outfile dist/sv2pool

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/sv2pool --create-home sv2pool \
 && apt-get update && apt-get install -y --no-install-recommends ca-certificates libsecp256k1-1 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/dist/sv2pool /usr/local/bin/sv2pool
USER sv2pool
WORKDIR /var/lib/sv2pool
VOLUME ["/var/lib/sv2pool"]
# SV2, SV1, HTTP (dashboard, API, /metrics)
EXPOSE 34254 3333 8080
ENV SV2POOL_DATA_DIR=/var/lib/sv2pool \
    SV2POOL_SV2_LISTEN=0.0.0.0:34254 \
    SV2POOL_SV1_LISTEN=0.0.0.0:3333 \
    SV2POOL_HTTP_LISTEN=0.0.0.0:8080
ENTRYPOINT ["/usr/local/bin/sv2pool"]
CMD ["run"]

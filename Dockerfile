# guichet: multi-stage build, non-root runtime, the store on a volume.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY benches ./benches
COPY data ./data
# Compiled into the binary: the shipped configuration and the response templates.
COPY config ./config
COPY responses ./responses
RUN cargo build --release --locked --bin guichet

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app guichet
WORKDIR /app
COPY --from=build /src/target/release/guichet /usr/local/bin/guichet
# No config/ nor responses/ here: the binary carries them. Mount a configuration and pass
# GUICHET_CONFIG (and responses.dir for a city's own templates) to replace them.
RUN mkdir -p /data && chown guichet /data
USER guichet
VOLUME ["/data"]
EXPOSE 8080
# Reachable from other hosts: web citizens get sender tokens (or set identity = "signed").
ENV GUICHET__HTTP__LISTEN=0.0.0.0:8080 \
    GUICHET__STORE__PATH=/data/store \
    GUICHET__CHANNELS__WEB__IDENTITY=token
# The binary checks itself: no curl or wget in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["guichet", "health", "--url", "http://127.0.0.1:8080/healthz"]
CMD ["guichet", "serve"]

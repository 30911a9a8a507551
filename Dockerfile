# syntax=docker/dockerfile:1

# ---- build ----
FROM rust:1.95-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev zlib1g-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked

# ---- runtime ----
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system copydesk \
 && useradd --system --gid copydesk --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin copydesk
COPY --from=builder /src/target/release/copydesk /usr/local/bin/copydesk
COPY config/copydesk.toml /etc/copydesk/copydesk.toml
USER copydesk
EXPOSE 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["copydesk", "check-config", "/etc/copydesk/copydesk.toml"]
ENTRYPOINT ["copydesk"]
CMD ["run", "--config", "/etc/copydesk/copydesk.toml"]

# syntax=docker/dockerfile:1
# cardbridge: multi-stage build. The runtime image holds only the binary and CA roots,
# runs as an unprivileged user and keeps its state (users, mirror, tokens) in /var/lib/cardbridge.

FROM rust:1.90-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin cardbridge \
 && strip target/release/cardbridge

FROM debian:bookworm-slim
# ca-certificates is not pinned (DL3008): bookworm's security updates replace the exact
# version, and an old pin would fail the build instead of taking the fix.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/cardbridge --create-home cardbridge
COPY --from=build /src/target/release/cardbridge /usr/local/bin/cardbridge
USER cardbridge
WORKDIR /var/lib/cardbridge
VOLUME ["/var/lib/cardbridge"]
ENV CARDBRIDGE_CONFIG=/etc/cardbridge/cardbridge.toml
EXPOSE 5232
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["cardbridge", "healthcheck", "--url", "http://127.0.0.1:5232/healthz"]
ENTRYPOINT ["cardbridge"]
CMD ["serve"]

# syntax=docker/dockerfile:1
#
# The notification service as a small, non-root image: built in a full Rust
# image, run in distroless (glibc, CA certificates, no shell, no package
# manager). Built in CI (`.github/workflows/ci.yml`, job `docker`); see
# docs/deployment.md for how to run it.
#
#   docker build -t notification-api .
#   docker run -p 8080:8080 -v notifications:/var/lib/notification notification-api

FROM rust:1.95-slim-bookworm AS build
# jemalloc (the binary's allocator) is built from C sources with make.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The registry and target caches survive between builds on the same builder;
# the binary is copied out in the same step since the cache is not in the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p notification-api \
 && cp target/release/notification-api /usr/local/bin/notification-api \
 && mkdir -p /out/var/lib/notification

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/notification-api /usr/local/bin/notification-api
# The SQLite default needs a folder the service user may write; mount a volume
# there (or set DATABASE_URL=postgres://… and keep nothing in the container).
COPY --from=build --chown=nonroot:nonroot /out/var/lib/notification /var/lib/notification
WORKDIR /var/lib/notification
ENV BIND_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/notification/notifications.db \
    RUST_LOG=info
VOLUME ["/var/lib/notification"]
EXPOSE 8080
# distroless's nonroot account (uid 65532); never root.
USER nonroot:nonroot
# SIGTERM: close 1001 to every socket, finish requests, exit within SHUTDOWN_TIMEOUT (10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/notification-api"]
CMD ["serve"]

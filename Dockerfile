# syntax=docker/dockerfile:1
# The loadtest image the Kubernetes manifests run (deploy/kubernetes):
#   docker build -t loadtest:latest .
# Stage 1 builds the release binary with the Rust image; stage 2 is a slim Debian with only
# the binary and CA certificates (for HTTPS targets and AWS), run as a non-root user.

FROM rust:1.95-bookworm AS build
# aws-lc-rs (TLS for the AWS SDK) builds C code with cmake and clang.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake clang \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY data ./data
COPY benches ./benches
RUN cargo build --release --locked --bin loadtest \
    && cp target/release/loadtest /usr/local/bin/loadtest

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin loadtest \
    && mkdir /results && chown loadtest:loadtest /results
COPY --from=build /usr/local/bin/loadtest /usr/local/bin/loadtest
COPY profiles /profiles
USER 10001:10001
WORKDIR /results
ENTRYPOINT ["loadtest"]
CMD ["--help"]

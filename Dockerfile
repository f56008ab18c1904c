# syntax=docker/dockerfile:1
# vroute-analysis image: a static (musl) binary on distroless/static, running as non-root.
#   docker build -t ghcr.io/kubectl-vroute/vroute-analysis:v0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/kubectl-vroute/vroute-analysis:v0.1.0 .
# musl rather than a static glibc build: glibc's getaddrinfo needs NSS libraries at run time, which
# distroless/static does not have, and the Prometheus URL is usually a DNS name.
FROM rust:1.95-bookworm AS build
# Set by BuildKit from --platform (amd64 or arm64); the build stage runs on that platform.
ARG TARGETARCH
RUN case "$TARGETARCH" in \
      amd64) echo x86_64-unknown-linux-musl ;; \
      arm64) echo aarch64-unknown-linux-musl ;; \
      *) echo "unsupported TARGETARCH=$TARGETARCH" >&2; exit 1 ;; \
    esac > /rust-target \
 && apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$(cat /rust-target)"
WORKDIR /src
COPY . .
# Cache mounts keep the crate registry and build artefacts between builds without putting them in a layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry --mount=type=cache,target=/src/target \
    cargo build --release --locked --target "$(cat /rust-target)" --bin vroute-analysis \
 && cp "target/$(cat /rust-target)/release/vroute-analysis" /vroute-analysis

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /vroute-analysis /vroute-analysis
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/vroute-analysis"]
CMD ["--listen", "0.0.0.0:8080"]

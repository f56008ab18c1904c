# syntax=docker/dockerfile:1
# vroute-analysis image: a static (musl) binary on distroless/static, running as non-root.
#   docker build -t ghcr.io/kubectl-vroute/vroute-analysis:v0.1.0 .
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
# Cache mounts keep the crate registry and build artefacts between builds without putting them in a layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry --mount=type=cache,target=/src/target \
    cargo build --release --locked --target x86_64-unknown-linux-musl --bin vroute-analysis \
 && cp target/x86_64-unknown-linux-musl/release/vroute-analysis /vroute-analysis

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /vroute-analysis /vroute-analysis
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/vroute-analysis"]
CMD ["--listen", "0.0.0.0:8080"]

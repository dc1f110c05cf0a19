# goose-pod-autoscaler: the Custom Pod Autoscaler (CPA) with our two plugin
# executables. Build from the repository root:
#   docker build -t goose-pod-autoscaler:0.1.0 .
# Users extend this image with their scenario file and evaluation config
# (see example/Dockerfile).

# Build stage: static musl binaries, the same target the CPA's Alpine image runs.
FROM rust:1.95-alpine3.22 AS build
# aws-lc-sys (TLS, through reqwest) needs a C compiler; no OpenSSL, no cmake.
# hadolint ignore=DL3018
RUN apk add --no-cache build-base
WORKDIR /src
COPY . .
# Without the default `simulate` feature: the image needs neither `gpa
# simulate` nor its example service and chart library. With `alerts`: `gpa
# alerts`, the Alertmanager sidecar, runs from this image as a second
# container of the CPA's pod (docs/alerts.md).
RUN cargo build --release --locked --no-default-features --features alerts \
    --bin gpa-metric --bin gpa-evaluate --bin gpa

# Final stage: the CPA's Alpine image, pinned. Alpine rather than the Python
# (Debian) image: our plugin needs no interpreter, the image is a fraction of
# the size, and the CPA binary is the image's entrypoint either way.
FROM custompodautoscaler/alpine:v2.12.2
# CA certificates, for load tests against https:// services.
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates
COPY --from=build /src/target/release/gpa-metric /gpa-metric
COPY --from=build /src/target/release/gpa-evaluate /gpa-evaluate
COPY --from=build /src/target/release/gpa /gpa
COPY config.yaml /config.yaml

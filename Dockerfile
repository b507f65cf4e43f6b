# syntax=docker/dockerfile:1
#
# Halyard's container image: one static binary (CGO_ENABLED=0; the embedded
# store is pure Go) on distroless/static, which adds only CA certificates
# (Discord and GitHub over HTTPS), time zones, /tmp and a "nonroot" user —
# no shell, no libc, no package manager.
#
#   docker build -t halyard \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run --rm -p 4001:4001 -v halyard-data:/data halyard --demo
#   docker run -d -p 4001:4001 -v halyard-data:/data --env-file halyard.env halyard
#
# .dockerignore keeps .git out of the context, so the Go toolchain cannot
# stamp the commit: VERSION and REVISION carry it into `halyard version`,
# the first log line, the halyard_build_info metric and the labels below.
# Podman keeps HEALTHCHECK only with `podman build --format docker`.

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH VERSION REVISION
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -o /out/halyard \
      -ldflags "-s -w \
        -X github.com/halyardhq/halyard/internal/buildinfo.version=${VERSION} \
        -X github.com/halyardhq/halyard/internal/buildinfo.revision=${REVISION}" \
      ./cmd/halyard \
 && mkdir /out/data

FROM ${RUNTIME_IMAGE}
ARG VERSION REVISION
LABEL org.opencontainers.image.title="Halyard" \
      org.opencontainers.image.description="Self-hosted Discord presence server answering the Lanyard, Lantern and harmy APIs" \
      org.opencontainers.image.source="https://github.com/halyardhq/halyard" \
      org.opencontainers.image.documentation="https://github.com/halyardhq/halyard#readme" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/halyard /usr/local/bin/halyard
# A named volume mounted here starts with this directory's owner: the
# unprivileged user below can write it.
COPY --from=build --chown=65532:65532 /out/data /data
# The embedded store and the token secret live in /data. PORT is read by
# `halyard healthcheck` too: change the port with PORT (or ADDR), not
# --addr, or the HEALTHCHECK asks the wrong one.
ENV DATA_DIR=/data PORT=4001
USER 65532:65532
VOLUME ["/data"]
EXPOSE 4001
# The binary asks its own /readyz (gateway READY, store writable): no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=2m --retries=3 \
  CMD ["/usr/local/bin/halyard", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/halyard"]

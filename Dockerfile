# syntax=docker/dockerfile:1
# The Hushpay gateway in a container: the release binary, the card iframe's assets and the
# hosted pages (web-sdk/dist), run as an unprivileged user. Three stages:
#   rust     the gateway (release) and the card iframe's WebAssembly (wasm-bindgen glue)
#   web      @hushpay/web's build (wasm-opt, esbuild, tsc): web-sdk/dist/{frame,pages}
#   runtime  Debian slim, the binary, the assets; no compiler, no Node, no shell tools added
#
#   docker build --build-arg HUSHPAY_GIT_COMMIT=$(git rev-parse --short=12 HEAD) -t hushpay .
#   docker run --rm hushpay --version
#
# Configuration: mount a TOML file and point HUSHPAY_CONFIG at it (or HUSHPAY__SECTION__KEY
# variables); keys under /etc/hushpay, data (SQLite, recordings) under /var/lib/hushpay.
# compose.yaml runs it beside PostgreSQL, NATS and coturn. README "Deploying" has the rest.

ARG RUST_VERSION=1.95
ARG NODE_VERSION=20
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN} AS rust
# libopus is built from source (the opus crate's bundled copy) with cmake.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The wasm-bindgen CLI of exactly the crate version in Cargo.lock (as scripts/setup.sh does).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock) \
 && { cargo install --locked --root /opt/wasm-bindgen wasm-bindgen-cli --version "$version" \
      || cargo install --root /opt/wasm-bindgen wasm-bindgen-cli --version "$version"; }
COPY . .
# The commit for `hushpay --version` (.git is not in the build context).
ARG HUSHPAY_GIT_COMMIT=unknown
ENV HUSHPAY_GIT_COMMIT=${HUSHPAY_GIT_COMMIT}
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --release -p hushpay \
 && cargo build --locked -p hushpay-wasm --target wasm32-unknown-unknown --profile wasm-release \
 && mkdir -p /out/wasm \
 && cp target/release/hushpay /out/hushpay \
 && /opt/wasm-bindgen/bin/wasm-bindgen --target web --no-typescript --out-dir /out/wasm \
      target/wasm32-unknown-unknown/wasm-release/hushpay_wasm.wasm

FROM node:${NODE_VERSION}-${DEBIAN}-slim AS web
WORKDIR /src
COPY package.json package-lock.json ./
COPY web-sdk/package.json web-sdk/
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY web-sdk web-sdk
COPY --from=rust /out/wasm web-sdk/build/wasm
# wasm-opt as scripts/build-wasm.sh runs it, then the bundles (web-sdk/build.mjs).
RUN node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
      --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
      --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
      web-sdk/build/wasm/hushpay_wasm_bg.wasm -o web-sdk/build/wasm/hushpay_wasm_bg.wasm \
 && node web-sdk/build.mjs

FROM debian:${DEBIAN}-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 hushpay \
 && useradd --system --uid 10001 --gid hushpay --home-dir /var/lib/hushpay --shell /usr/sbin/nologin hushpay \
 && mkdir -p /var/lib/hushpay /etc/hushpay \
 && chown hushpay:hushpay /var/lib/hushpay \
 && chmod 0700 /var/lib/hushpay
COPY --from=rust /out/hushpay /usr/local/bin/hushpay
# The gateway finds its assets at web-sdk/dist/{frame,pages} relative to its working directory
# ([widget] assets_dir, pages_dir defaults).
WORKDIR /opt/hushpay
COPY --from=web /src/web-sdk/dist/frame web-sdk/dist/frame
COPY --from=web /src/web-sdk/dist/pages web-sdk/dist/pages
COPY LICENSE SECURITY.md CHANGELOG.md /usr/share/doc/hushpay/
# The default configuration (listen on 0.0.0.0:8080, data in the volume); mount yours over it.
COPY packaging/container/hushpay.toml /etc/hushpay/hushpay.toml
ENV HUSHPAY_CONFIG=/etc/hushpay/hushpay.toml
USER 10001:10001
# HTTP (API, pages, card iframe), ICE over TCP, the media UDP port ([rtc] tcp_port, udp_port).
EXPOSE 8080/tcp 7881/tcp 7882/udp
VOLUME ["/var/lib/hushpay"]
ENTRYPOINT ["/usr/local/bin/hushpay"]
CMD ["serve"]

# Pier: one Bun process serving the web app, with its SQLite database in /data.
#
#   docker build -t pier .
#   docker run -d --name pier -p 7070:7070 -v /var/run/docker.sock:/var/run/docker.sock -v pier-data:/data pier

# ---- build: production dependencies and vendored browser files ----
FROM oven/bun:1.4.5-slim AS build
WORKDIR /app

# Dependencies first, so this layer is reused until package.json or bun.lock change.
# --production is enough: scripts/build-assets.ts needs htmx.org and @xterm/*, runtime dependencies.
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

COPY tsconfig.json bunfig.toml ./
COPY src ./src
COPY views ./views
COPY public ./public
COPY drizzle ./drizzle
COPY scripts ./scripts
# Copies htmx and xterm.css into public/vendor and bundles src/client there (never a CDN).
RUN bun scripts/build-assets.ts

# ---- Pier's static programs for pods: the terminal holder (src/terminal/holder/pier-pty.c), the
# client the helpers ask Pier's socket with (src/pods/pier-ask.c), the relay previews reach ports in
# pods through (src/previews/pier-relay.c) and the bridge pods on other engines reach Pier's sockets
# through (src/bridge/pier-bridge.c); the runtime image has no compiler ----
FROM oven/bun:1.4.5-slim AS programs
RUN apt-get update \
  && apt-get install -y --no-install-recommends gcc musl-tools \
  && rm -rf /var/lib/apt/lists/*
COPY src/terminal/holder/pier-pty.c src/pods/pier-ask.c src/previews/pier-relay.c src/bridge/pier-bridge.c /build/
RUN musl-gcc -static -Os -s -o /build/pier-pty /build/pier-pty.c && /build/pier-pty version \
  && musl-gcc -static -Os -s -o /build/pier-ask /build/pier-ask.c && /build/pier-ask version \
  && musl-gcc -static -Os -s -o /build/pier-relay /build/pier-relay.c && /build/pier-relay version \
  && musl-gcc -static -Os -s -o /build/pier-bridge /build/pier-bridge.c && /build/pier-bridge version

# ---- the docker CLI alone: the devcontainer CLI builds a repository's features through it
# (src/environments/devcontainer-cli.ts). Debian's docker.io package also holds the engine and pulls
# in containerd, runc and iptables; only its client is taken, which links to libc alone ----
FROM oven/bun:1.4.5-slim AS docker-cli
RUN apt-get update \
  && cd /tmp && apt-get download docker.io \
  && dpkg-deb -x docker.io_*.deb /tmp/docker.io \
  && /tmp/docker.io/usr/bin/docker --version

# ---- runtime ----
FROM oven/bun:1.4.5-slim
WORKDIR /app

# The server fetches each repository's mirror with git (clones and worktrees are worked on inside the
# pods); tmux runs shells for the local runtime, whose helpers ask Pier with pier-ask (built above),
# so no curl.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git tmux ca-certificates openssh-client \
  && rm -rf /var/lib/apt/lists/*

# Bun runs the TypeScript sources directly; tsconfig.json carries the JSX settings,
# drizzle/ the migrations applied at start-up, public/ the static files.
COPY --from=build /app/package.json /app/tsconfig.json /app/bunfig.toml ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY --from=build /app/views ./views
COPY --from=build /app/public ./public
COPY --from=build /app/drizzle ./drizzle
COPY --from=programs /build/pier-pty /build/pier-ask /build/pier-relay /build/pier-bridge /usr/local/lib/pier/
COPY --from=docker-cli /tmp/docker.io/usr/bin/docker /usr/local/bin/docker

ENV PIER_DATA_DIR=/data PIER_PORT=7070 NODE_ENV=production PIER_PTY_BINARY=/usr/local/lib/pier/pier-pty PIER_ASK_BINARY=/usr/local/lib/pier/pier-ask PIER_RELAY_BINARY=/usr/local/lib/pier/pier-relay PIER_BRIDGE_BINARY=/usr/local/lib/pier/pier-bridge
VOLUME /data
EXPOSE 7070

# Asks bun itself (nothing else need be installed for it). Uses PIER_PORT so a changed port still checks the right listener.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD bun -e "fetch('http://127.0.0.1:'+(process.env.PIER_PORT||7070)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# Runs as root on purpose: Pier drives workspace containers through the mounted Docker socket
# (/var/run/docker.sock), which is owned by root on the host. The server runs git only on the
# mirrors, which no pod can write; everything a pod can write is worked on inside that pod.
CMD ["bun", "src/main.ts"]

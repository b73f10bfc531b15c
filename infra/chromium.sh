#!/usr/bin/env bash
# Installs Debian's chromium if it is missing and prints its path (for headless browser tests).
#   infra/chromium.sh
set -euo pipefail

bin=/usr/bin/chromium
if [ ! -x "$bin" ]; then
  echo "chromium: $bin missing, installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >&2 || { apt-get update -q >&2 && apt-get install -y -q chromium >&2; }
fi
echo "$bin"

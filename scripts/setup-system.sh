#!/usr/bin/env bash
# Installs the Debian packages that tests and benchmarks need, when absent. Idempotent.
# Usage: scripts/setup-system.sh [group...]   groups: browser, peers, lz4, zstd, netns, shells, lint (default: all)
# Fails loudly (non-zero, naming the package) when something cannot be installed: a test that
# needs a tool must never silently skip because the tool is missing.
set -euo pipefail

declare -A GROUP_PACKAGES=(
  [browser]="chromium"
  [peers]="nats-server redis-server"
  [lz4]="lz4"
  [zstd]="zstd"
  [netns]="iproute2"
  [shells]="zsh"
  [lint]="shellcheck"
)
# The command each package provides, to check for presence without dpkg queries.
declare -A PACKAGE_COMMAND=(
  [chromium]="/usr/bin/chromium"
  [nats-server]="nats-server"
  [redis-server]="redis-server"
  [lz4]="lz4"
  [zstd]="zstd"
  [iproute2]="ip"
  [zsh]="zsh"
  [shellcheck]="shellcheck"
)

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(browser peers lz4 zstd netns shells lint)

missing=()
for group in "${groups[@]}"; do
  pkgs=${GROUP_PACKAGES[$group]:-}
  if [ -z "$pkgs" ]; then
    echo "setup-system: unknown group '$group' (known: ${!GROUP_PACKAGES[*]})" >&2
    exit 2
  fi
  for pkg in $pkgs; do
    command -v "${PACKAGE_COMMAND[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
  done
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup-system: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-system: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq || ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "setup-system: apt-get could not install: ${missing[*]}. Install them by hand and re-run." >&2
  exit 1
fi
for pkg in "${missing[@]}"; do
  if ! command -v "${PACKAGE_COMMAND[$pkg]}" >/dev/null 2>&1; then
    echo "setup-system: installed $pkg but '${PACKAGE_COMMAND[$pkg]}' is still missing" >&2
    exit 1
  fi
done

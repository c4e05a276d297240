#!/usr/bin/env bash
# Install the Debian packages chia's tests and demo use, only those that are missing,
# and only when running as root (elsewhere, print what is missing and carry on).
set -euo pipefail

declare -A wanted=(
  [redis-server]=redis-server
  [rsync]=rsync
  [sshd]=openssh-server
  [ssh]=openssh-client
  [chromium]=chromium
  [verilator]=verilator
  [dot]=graphviz
  [tinyproxy]=tinyproxy-bin
  [cc]=gcc
)
missing=()
for cmd in "${!wanted[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    missing+=("${wanted[$cmd]}")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${missing[*]}; not root, so not installing (tests needing them skip)" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# deps.sh - install the Debian packages ecsrev needs, if any is missing.
# Usage: scripts/deps.sh [build|test] [PACKAGE...]
#   build: compiler, CMake and the five runtime libraries (-dev packages)
#   test:  also cmocka, clang with its sanitizer runtime, openssl(1) (the TLS fetch
#          test makes a self-signed certificate with it)
#   PACKAGE...: further Debian packages a script needs (valgrind, clang-tidy, ...)
# Runs apt-get only when something is missing (machines and CI run as root).
set -euo pipefail

want=(build-essential cmake pkg-config libcurl4-openssl-dev libcjson-dev liblmdb-dev
      libxxhash-dev libssl-dev python3)
if [ "${1:-build}" = test ]; then
  want+=(libcmocka-dev clang libclang-rt-14-dev openssl)
fi
if [ $# -gt 1 ]; then
  want+=("${@:2}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

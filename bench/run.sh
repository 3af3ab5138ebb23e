#!/usr/bin/env bash
# run.sh - run every ecsrev benchmark (issue 6) and write docs/PERFORMANCE.md.
#
# Usage: bench/run.sh [--quick] [--reps N] [--only LIST] [--no-build] [--no-doc] [--profile]
#   --quick     small inputs (2,000 / 10,000 revisions), to try it out in 1-2 minutes
#   --reps N    runs per figure, the median is reported (default 5; 3 with --quick)
#   --only L    comma-separated subset: ingest,diff,fetch,latency,verify,scale
#   --no-build  use the existing Release build in bench/out/build
#   --no-doc    print the tables, leave docs/PERFORMANCE.md alone
#   --profile   also run bench/profile.sh (callgrind profiles of import, log -p, show)
#
# What it does:
#   1. installs what is missing: the build dependencies (scripts/deps.sh), jq
#      (Debian), node + npm (Debian) and json-diff-ts (npm, into bench/node_modules);
#      boto3 is used only where python3 can already import it (else that row is
#      skipped with a note);
#   2. builds ecsrev with CMAKE_BUILD_TYPE=Release into bench/out/build;
#   3. runs bench/bench.py: generated data in bench/out/data, stores in
#      bench/out/stores, raw results in bench/out/results.json, tables into the
#      generated part of docs/PERFORMANCE.md.
# Never part of the test command and never fails CI: tests/cli/test_bench_smoke.py
# is the tiny CI version. Everything under bench/out and bench/node_modules is
# disposable (gitignored).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
OUT="$HERE/out"
BUILD="$OUT/build"
JSON_DIFF_TS_VERSION=4.10.4

quick=0 build=1 profile=0 reps=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; args+=(--quick) ;;
    --reps) reps="$2"; shift ;;
    --only) args+=(--only "$2"); shift ;;
    --no-build) build=0 ;;
    --no-doc) args+=(--no-doc) ;;
    --profile) profile=1 ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$reps" ]; then
  if [ $quick = 1 ]; then reps=3; else reps=5; fi
fi

say() { echo "[run.sh] $*" >&2; }

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null; then
    say "no apt-get: cannot install $*"
    return 1
  fi
  if [ $apt_updated = 0 ]; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    apt_updated=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. peers and build dependencies
bash "$ROOT/scripts/deps.sh" build
if ! command -v jq >/dev/null; then
  say "installing jq (Debian)"
  apt_install jq || say "jq unavailable: the ingest ratio will be missing"
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "installing nodejs and npm (Debian)"
  apt_install nodejs npm || say "node/npm unavailable: the history-diff peer will be skipped"
fi
if command -v npm >/dev/null; then
  have=$(node -e "try{console.log(require('$HERE/node_modules/json-diff-ts/package.json').version)}catch(e){}" 2>/dev/null || true)
  if [ "$have" != "$JSON_DIFF_TS_VERSION" ]; then
    say "installing json-diff-ts@$JSON_DIFF_TS_VERSION (npm) into bench/node_modules"
    npm install --prefix "$HERE" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "json-diff-ts@$JSON_DIFF_TS_VERSION" >/dev/null ||
      say "npm install failed: the history-diff peer will be skipped"
  fi
fi
if python3 -c 'import boto3' 2>/dev/null; then
  say "boto3 $(python3 -c 'import boto3; print(boto3.__version__)') found"
else
  say "boto3 not importable by python3: the fetch peer row will be skipped"
fi
if ! command -v perf >/dev/null && [ $profile = 1 ]; then
  say "perf missing: installing linux-perf (Debian)"
  apt_install linux-perf || true
fi

# 2. Release build
if [ $build = 1 ] || [ ! -x "$BUILD/ecsrev" ]; then
  say "building ecsrev (Release) in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DECSREV_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target ecsrev >/dev/null
fi

# 3. the benchmarks
python3 "$HERE/bench.py" --bin "$BUILD/ecsrev" --reps "$reps" --out "$OUT" "${args[@]}"

if [ $profile = 1 ]; then
  bash "$HERE/profile.sh"
fi

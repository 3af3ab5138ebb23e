#!/usr/bin/env bash
# demo.sh - the README's main job: set up, then fetch → log → diff → audit →
# verify into the embedded default store (~/.local/share/ecsrev, or
# $ECSREV_STORE).
#
#   bash scripts/demo.sh                       # against the local fake ECS endpoint
#                                              # (examples/demo-scenario.json)
#   bash scripts/demo.sh --cluster C --service S [--service S2] [--region R] [--profile P]
#                                              # the same pipeline against real AWS with
#                                              # your credentials (nothing else changes)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cluster=""; services=(); extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --cluster) cluster=$2; shift 2 ;;
    --service) services+=("$2"); shift 2 ;;
    --region|--profile|--endpoint-url) extra+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

if [ -n "${ECSREV_BIN:-}" ]; then
  bin=$ECSREV_BIN   # an already built binary (the test suite runs the demo this way)
else
  bash scripts/deps.sh build
  echo "== building ecsrev (build/release)" >&2
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DECSREV_TESTS=OFF >/dev/null
  cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
  bin=$root/build/release/ecsrev
fi
ecsrev() { "$bin" "$@"; }

server_pid=""
cleanup() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

if [ -z "$cluster" ]; then
  # The fake endpoint: a realistic service going through six deployments.
  cluster=prod; services=(web api)
  portfile=$(mktemp)
  python3 tests/support/fake_ecs.py --scenario examples/demo-scenario.json --port 0 \
      --port-file "$portfile" >/dev/null &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
  port=$(cat "$portfile"); rm -f "$portfile"
  export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
  unset AWS_SESSION_TOKEN AWS_PROFILE
  export AWS_REGION=us-east-1
  extra+=(--endpoint-url "http://127.0.0.1:$port")
  echo "== fake ECS endpoint on http://127.0.0.1:$port (examples/demo-scenario.json)" >&2
fi

svc_args=()
for s in "${services[@]}"; do svc_args+=(--service "$s"); done

step() { printf '\n\033[1m$ ecsrev %s\033[0m\n' "$*"; }
step fetch --cluster "$cluster" "${svc_args[@]}"
ecsrev fetch --cluster "$cluster" "${svc_args[@]}" "${extra[@]}"
step log --cluster "$cluster" --service "${services[0]}"
ecsrev log --cluster "$cluster" --service "${services[0]}"
step diff --cluster "$cluster" --service "${services[0]}"
ecsrev diff --cluster "$cluster" --service "${services[0]}" || [ $? -eq 1 ]
step audit --cluster "$cluster"
ecsrev audit --cluster "$cluster" "${svc_args[@]}" --all-revisions || [ $? -eq 1 ]
step verify
ecsrev verify
step stats
ecsrev stats

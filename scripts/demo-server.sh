#!/bin/sh
# demo-server.sh — run the fake Amazon ECS endpoint with the demo scenario.
#
#   scripts/demo-server.sh                 serve in the foreground (Ctrl-C stops) and
#                                          print the environment a client needs
#   scripts/demo-server.sh CMD [ARG...]    start it in the background, run CMD with
#                                          AWS_ENDPOINT_URL_ECS, AWS_REGION and the demo
#                                          credentials set, stop it, exit with CMD's status
#
# Environment: SCENARIO (default examples/demo-scenario.json), PORT (default: free),
# PYTHON (default python3). Loopback only; nothing reaches AWS.
set -eu

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
scenario=${SCENARIO:-$root/examples/demo-scenario.json}
python=${PYTHON:-python3}
port=${PORT:-0}
server="$root/tests/support/fake_ecs.py"

# the demo scenario's credentials (dummy values accepted by the fake endpoint only)
demo_akid=AKIDEXAMPLE
demo_secret=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

if [ "$#" -eq 0 ]; then
    echo "export AWS_ACCESS_KEY_ID=$demo_akid AWS_SECRET_ACCESS_KEY=$demo_secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1" >&2
    echo "export AWS_ENDPOINT_URL_ECS=http://127.0.0.1:<port below>" >&2
    exec "$python" "$server" --scenario "$scenario" --port "$port"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ecsrev-demo.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$python" "$server" --scenario "$scenario" --port "$port" --port-file "$tmp/port" \
    --log "$tmp/requests.log" >/dev/null &
pid=$!
i=0
while [ ! -s "$tmp/port" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "demo-server: fake endpoint failed to start" >&2; exit 2; fi
    i=$((i + 1))
    if [ "$i" -gt 200 ]; then echo "demo-server: fake endpoint did not start" >&2; exit 2; fi
    sleep 0.05
done
url="http://127.0.0.1:$(cat "$tmp/port")"
echo "demo-server: fake ECS endpoint on $url" >&2

set +e
env AWS_ENDPOINT_URL_ECS="$url" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID="$demo_akid" AWS_SECRET_ACCESS_KEY="$demo_secret" \
    AWS_EC2_METADATA_DISABLED=true "$@"
status=$?
set -e
exit "$status"

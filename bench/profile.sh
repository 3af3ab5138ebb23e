#!/usr/bin/env bash
# profile.sh - where do `ecsrev import` and `ecsrev log -p` spend their time?
#
# Usage: bench/profile.sh [N]     (N revisions, default 3000, over 10 services)
#
# Builds ecsrev with -O2 -g -fno-omit-frame-pointer (RelWithDebInfo) into
# bench/out/build-prof, generates N medium revisions, and runs both commands under
# valgrind --tool=callgrind (instruction counts: exact and repeatable, unlike
# timings on a shared machine). Writes, in bench/out/profile/:
#   callgrind.<cmd>.out        raw profiles (open with kcachegrind or callgrind_annotate)
#   <cmd>.self.txt             functions by their own instructions (Ir)
#   <cmd>.inclusive.txt        functions by instructions including callees
# for <cmd> = import, logp (log -p --format json) and show.
# Also `perf record -e cpu-clock -g` profiles (<cmd>.perf.txt) when perf works here.
# docs/PERFORMANCE.md summarizes the findings by hand.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
OUT="$HERE/out"
PROF="$OUT/profile"
BUILD="$OUT/build-prof"
N="${1:-3000}"

command -v valgrind >/dev/null || {
  echo "profile.sh: valgrind missing (apt-get install valgrind)" >&2
  exit 2
}
mkdir -p "$PROF"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="-fno-omit-frame-pointer" >/dev/null
cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target ecsrev >/dev/null
BIN="$BUILD/ecsrev"
DATA="$PROF/revs-$N.ndjson"
[ -f "$DATA" ] || python3 "$HERE/gen_revisions.py" --revisions "$N" --services 10 --output "$DATA"
STORE="$PROF/store"

annotate() {
  local name=$1
  # full listings to files first: head on a pipe would SIGPIPE callgrind_annotate
  callgrind_annotate "$PROF/callgrind.$name.out" >"$PROF/$name.self.txt" 2>/dev/null || true
  callgrind_annotate --inclusive=yes "$PROF/callgrind.$name.out" >"$PROF/$name.inclusive.txt" 2>/dev/null || true
  echo "== $name: top functions by own instructions ($PROF/$name.self.txt)" >&2
  grep -E '^ *[0-9,]+ ' "$PROF/$name.self.txt" | sed -n '1,26p' >&2 || true
}

rm -rf "$STORE"
valgrind --tool=callgrind --callgrind-out-file="$PROF/callgrind.import.out" \
  "$BIN" import --store "$STORE" --quiet "$DATA" 2>"$PROF/valgrind.import.log"
annotate import
valgrind --tool=callgrind --callgrind-out-file="$PROF/callgrind.logp.out" \
  "$BIN" log -p --format json --store "$STORE" >/dev/null 2>"$PROF/valgrind.logp.log"
annotate logp
valgrind --tool=callgrind --callgrind-out-file="$PROF/callgrind.show.out" \
  "$BIN" show --store "$STORE" "$(head -1 "$DATA" | python3 -c 'import json,sys; print(json.load(sys.stdin)["serviceRevisionArn"])')" \
  >/dev/null 2>"$PROF/valgrind.show.log"
annotate show

if command -v perf >/dev/null && perf record -e cpu-clock -o /dev/null true 2>/dev/null; then
  rm -rf "$STORE"
  perf record -q -e cpu-clock -F 2000 -g -o "$PROF/perf.import.data" \
    "$BIN" import --store "$STORE" --quiet "$DATA" 2>/dev/null
  perf report -i "$PROF/perf.import.data" --no-children --stdio >"$PROF/import.perf.txt" 2>/dev/null || true
  perf record -q -e cpu-clock -F 2000 -g -o "$PROF/perf.logp.data" \
    "$BIN" log -p --format json --store "$STORE" >/dev/null 2>&1
  perf report -i "$PROF/perf.logp.data" --no-children --stdio >"$PROF/logp.perf.txt" 2>/dev/null || true
fi
echo "profile.sh: profiles in $PROF" >&2

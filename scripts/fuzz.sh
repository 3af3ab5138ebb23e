#!/bin/sh
# fuzz.sh - build the libFuzzer targets with clang (ECSREV_FUZZ=ON, ASan +
# UBSan, leak detection on) and run each for a bounded time.
#
# usage: scripts/fuzz.sh [-t SECONDS] [-b BUILD_DIR] [-j JOBS] [TARGET...]
#   -t  seconds per target (default 30, or $ECSREV_FUZZ_SECONDS)
#   -b  build folder (default build-fuzz in the source tree)
#   -j  parallel build jobs (default 4)
#   TARGET: canon input diff ecs awsconfig sigv4 (default: every tests/fuzz/fuzz_*.c)
#
# Each target starts from a scratch copy of tests/fuzz/corpus/<target> (the
# committed seed corpus is never modified). A crash, leak, timeout or broken
# property leaves its input under BUILD_DIR/fuzz-artifacts/<target>/; copy it
# into tests/fuzz/corpus/<target>/ as a regression case once fixed.
# Prints one summary line per target; exits 1 if any target failed, 2 on a
# usage or build problem.
set -u

src=$(cd "$(dirname "$0")/.." && pwd)
seconds=${ECSREV_FUZZ_SECONDS:-30}
build=$src/build-fuzz
jobs=4

while getopts t:b:j:h opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    b) build=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

case $seconds in
'' | *[!0-9]*) echo "fuzz.sh: -t needs a number of seconds" >&2; exit 2 ;;
esac

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz.sh: clang not found (libFuzzer needs clang)" >&2
    exit 2
fi

if [ $# -eq 0 ]; then
    for f in "$src"/tests/fuzz/fuzz_*.c; do
        t=$(basename "$f" .c)
        set -- "$@" "${t#fuzz_}"
    done
fi

echo "fuzz.sh: building in $build"
if ! CC=clang cmake -S "$src" -B "$build" -DECSREV_FUZZ=ON -DECSREV_WERROR=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.log" 2>&1 ||
    ! cmake --build "$build" -j "$jobs" >>"$build.log" 2>&1; then
    tail -n 30 "$build.log" >&2
    echo "fuzz.sh: build failed (log: $build.log)" >&2
    exit 2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
summary=""
for t in "$@"; do
    bin=$build/tests/fuzz/fuzz_$t
    seeds=$src/tests/fuzz/corpus/$t
    if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
        echo "fuzz.sh: unknown target '$t'" >&2
        exit 2
    fi
    work=$build/fuzz-corpus/$t
    art=$build/fuzz-artifacts/$t
    rm -rf "$work" "$art"
    mkdir -p "$work" "$art"
    cp "$seeds"/* "$work"/
    log=$build/fuzz-$t.log
    echo "fuzz.sh: $t for ${seconds}s"
    "$bin" "$work" "$seeds" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        line=$(printf '%-10s ok     %8s runs  %s' "$t" "${runs:-?}" "$cov")
    else
        failed=1
        crash=$(ls "$art" 2>/dev/null | head -n 1)
        line=$(printf '%-10s FAILED exit %d, input %s, log %s' "$t" "$rc" \
            "${crash:+$art/$crash}" "$log")
        grep -E 'ERROR: |SUMMARY: |property failed' "$log" | head -n 5 >&2
    fi
    echo "$line"
    summary="$summary$line
"
done

echo "---- fuzz summary (${seconds}s per target) ----"
printf '%s' "$summary"
exit $failed

#!/usr/bin/env bash
# test.sh - set everything up and run every test (the README's test command;
# .ci/run runs exactly this).
#   1. install missing Debian packages (scripts/deps.sh test)
#   2. gcc build with -Werror, all tests (unit, golden, cli)
#   3. clang build with -Werror + AddressSanitizer/UndefinedBehaviorSanitizer
#      (leak detection on), all tests again
#   3b. clang with ThreadSanitizer: the store's unit tests and the CLI tests
#      that import large files (import's stager thread), concurrency and
#      crash safety
#   4. every libFuzzer target for a bounded time (ECSREV_FUZZ_SECONDS, default
#      20 s each; the corpus replay already ran in steps 2 and 3)
#   5. static analysis: clang-tidy and cppcheck, zero diagnostics (scripts/lint.sh)
#   6. the quick CLI end-to-end tests under valgrind, zero errors and no
#      definite leaks (scripts/valgrind.sh)
# Build trees go to build/ under the checkout. Exit status is non-zero if any
# step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test

jobs=$(nproc 2>/dev/null || echo 2)
run_suite() {
  local name=$1; shift
  echo "== $name: configure and build" >&2
  cmake -S . -B "build/$name" -DECSREV_WERROR=ON "$@" >/dev/null
  cmake --build "build/$name" -j"$jobs" >/dev/null
  echo "== $name: tests" >&2
  ctest --test-dir "build/$name" --output-on-failure -j"$jobs"
}

run_suite gcc -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DECSREV_SANITIZE=ON
echo "== tsan: configure and build" >&2
cmake -S . -B build/tsan -DECSREV_WERROR=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
  -DECSREV_TSAN=ON >/dev/null
cmake --build build/tsan -j"$jobs" >/dev/null
echo "== tsan: tests" >&2
TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
  ctest --test-dir build/tsan --output-on-failure -j"$jobs" \
  -R '^(test_store|cli_test_core|cli_test_concurrency|cli_test_crash_safety)$'
echo "== fuzz: ${ECSREV_FUZZ_SECONDS:-20} s per target" >&2
bash scripts/fuzz.sh -t "${ECSREV_FUZZ_SECONDS:-20}" -b build/fuzz -j "$jobs"
echo "== static analysis" >&2
bash scripts/lint.sh build/lint
echo "== valgrind" >&2
bash scripts/valgrind.sh build/valgrind
echo "all test suites passed" >&2

#!/usr/bin/env bash
# valgrind.sh - run the quick CLI end-to-end tests (core, diff, log, audit,
# verify; not fetch, crash safety or bench) with the binary under valgrind
# (memcheck: any memory error or definite leak makes the binary exit 99, so
# the test fails and shows valgrind's report).
#
# Usage: scripts/valgrind.sh [BUILD_DIR]
#   BUILD_DIR (default build/valgrind): a plain Debug build, no sanitizers
#   (valgrind cannot run ASan binaries).
#
# Tests built on tests/cli/ecsrevtest.py run valgrind themselves when
# ECSREV_VALGRIND=1 (ctest passes it through). test_diff.py and test_log.py
# start the binary from ECSREV_BIN on their own, and ctest sets ECSREV_BIN, so
# they are run directly with ECSREV_BIN pointing at a valgrind wrapper.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build/valgrind}
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/deps.sh test valgrind

echo "== valgrind: configure and build ($build)" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DECSREV_SANITIZE=OFF -DECSREV_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs" --target ecsrev >/dev/null
bin=$(cd "$build" && pwd)/ecsrev

echo "== valgrind: ctest -L cli (core, audit, verify) with ECSREV_VALGRIND=1" >&2
rc=0
ECSREV_VALGRIND=1 ctest --test-dir "$build" -L cli -R 'core|audit|verify' \
  --output-on-failure -j"$jobs" || rc=1

# The same valgrind command as tests/cli/ecsrevtest.py (VALGRIND).
wrapper=$(cd "$build" && pwd)/ecsrev-valgrind
cat >"$wrapper" <<EOF
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --quiet \\
  "$bin" "\$@"
EOF
chmod +x "$wrapper"
for t in diff log; do
  echo "== valgrind: tests/cli/test_$t.py (ECSREV_BIN=$wrapper)" >&2
  if ! ECSREV_BIN=$wrapper ECSREV_TEST_DATA=$root/tests/data ECSREV_SOURCE_DIR=$root \
       PYTHONDONTWRITEBYTECODE=1 python3 "tests/cli/test_$t.py"; then
    rc=1
  fi
done

if [ "$rc" -ne 0 ]; then
  echo "valgrind: FAILED" >&2
  exit 1
fi
echo "valgrind: clean" >&2

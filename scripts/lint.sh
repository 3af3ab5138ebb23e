#!/usr/bin/env bash
# lint.sh - static analysis (issue 7): clang-tidy with the project's .clang-tidy
# (STYLE.md section 6) over src/lib/*.c and src/cli/*.c, and cppcheck over src/.
# Prints the number of diagnostics of each tool (clang-tidy also per check) and
# exits 1 if there is any, 0 when both are clean.
#
# Usage: scripts/lint.sh [BUILD_DIR]
#   BUILD_DIR (default build/lint) is configured (not built) with
#   CMAKE_EXPORT_COMPILE_COMMANDS=ON, clang when available and Debug, so that
#   clang-tidy sees the real flags and the analyzer sees the asserts.
# Installs clang-tidy and cppcheck through scripts/deps.sh when missing.
# Environment: LINT_JOBS (default nproc) parallel clang-tidy processes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/lint}
jobs=${LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}

# ---- tools ----
bash scripts/deps.sh build clang-tidy cppcheck

# ---- compile_commands.json ----
cc_opt=()
if command -v clang >/dev/null 2>&1; then cc_opt=(-DCMAKE_C_COMPILER=clang); fi
cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_BUILD_TYPE=Debug \
      "${cc_opt[@]}" >/dev/null
if [ ! -f "$build/compile_commands.json" ]; then
  echo "lint: $build/compile_commands.json was not written" >&2
  exit 2
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# ---- clang-tidy ----
# One output file per source (parallel runs must not interleave); the
# diagnostics are the lines "file:line:col: warning|error: ... [check]".
echo "== clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)" >&2
printf '%s\n' src/lib/*.c src/cli/*.c |
  xargs -P "$jobs" -I{} sh -c 'clang-tidy -p "$1" --quiet "$2" >"$3/tidy.$(echo "$2" | tr / _)" 2>&1 || true' \
    sh "$build" {} "$out"
cat "$out"/tidy.* >"$out/tidy.all"
grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$out/tidy.all" | sort -u >"$out/tidy.diag" || true
tidy_n=$(wc -l <"$out/tidy.diag")
if [ "$tidy_n" -gt 0 ]; then
  # Full output (with the analyzer's notes) for the sources that have any.
  for f in "$out"/tidy.*; do
    case $f in *.all|*.diag) continue ;; esac
    if grep -qE ': (warning|error): ' "$f"; then grep -vE '^[0-9]+ warnings? generated' "$f"; fi
  done
  echo "-- clang-tidy diagnostics per check:"
  sed -E 's/.*\[([^],]+)[],].*/\1/' "$out/tidy.diag" | sort | uniq -c | sort -rn
fi
echo "clang-tidy: $tidy_n diagnostic(s)"

# ---- cppcheck ----
echo "== cppcheck $(cppcheck --version | sed 's/^Cppcheck //')" >&2
cppcheck_rc=0
cppcheck --enable=warning,portability,performance --error-exitcode=1 --inline-suppr \
         --std=c11 --quiet -Iinclude -Isrc/lib -Isrc/cli \
         --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
         src/ 2>"$out/cppcheck" || cppcheck_rc=$?
cppcheck_n=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: ' "$out/cppcheck" || true)
cat "$out/cppcheck"
echo "cppcheck: $cppcheck_n diagnostic(s)"

if [ "$tidy_n" -gt 0 ] || [ "$cppcheck_n" -gt 0 ] || [ "$cppcheck_rc" -ne 0 ]; then
  echo "lint: FAILED" >&2
  exit 1
fi
echo "lint: clean" >&2

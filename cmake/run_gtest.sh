#!/usr/bin/env bash
# ctest wrapper of every gtest binary (sdn_add_gtest): a failure stays a failure; a run in which all tests
# passed but some called GTEST_SKIP exits 77, which ctest reports as "Skipped" (SKIP_RETURN_CODE). A bare
# SKIP_REGULAR_EXPRESSION would not do: ctest applies it regardless of the exit code, hiding failures.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
rc=$?
cat "$out"
[ "$rc" -ne 0 ] && exit "$rc"
grep -q '^\[  SKIPPED \]' "$out" && exit 77
exit 0

#!/bin/bash
# `sdn bench render` with tiny settings (a 48 px render, meshes of ~60 and ~300 faces, one timed call): the
# header names the command, the table has one row per requested mesh with its face count near the request and
# positive rates, the vehicle mesh works too, and a bad option is one usage error. Timings are not judged.
set -euo pipefail
: "${SDN:?SDN must name the sdn binary (ctest passes SDN=\$<TARGET_FILE:sdn>)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/sdn-bench-render.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$T/out" >&2 || true; exit 1; }

"$SDN" bench render --size 48 --faces 60,300 --repeats 1 --warmup 0 >"$T/out"
cat "$T/out"
grep -q '^# sdn bench render --size 48 --faces 60,300 --repeats 1 --warmup 0$' "$T/out" || fail "header line"
header='| mesh | faces | silhouette px | silhouette fwd, renders/s | silhouette fwd+bwd, renders/s |'
grep -qF "$header depth+normal maps, renders/s |" "$T/out" || fail "table header"
row='^\| (sphere|vehicle) \| [0-9]+ \| [0-9]+ \| [0-9.e+]+ \| [0-9.e+]+ \| [0-9.e+]+ \|$'
[[ $(grep -cE "$row" "$T/out") == 2 ]] || fail "two mesh rows"
# Face counts within 25 % of the request; the object covers a good part of the render; rates are positive.
awk -F'|' -v want="60 300" '/^\| sphere/ {
    split(want, w, " "); n++; f = $3 + 0; px = $4 + 0
    if (f < 0.75 * w[n] || f > 1.25 * w[n]) { print "faces " f " for " w[n]; exit 1 }
    if (px < 0.2 * 48 * 48 || px > 0.6 * 48 * 48) { print "silhouette px " px; exit 1 }
    for (k = 5; k <= 7; k++) if ($k + 0 <= 0) { print "rate " $k; exit 1 }
  }' "$T/out" || fail "row values"

"$SDN" bench render --mesh vehicle --size 32 --faces 800 --repeats 1 --warmup 0 >"$T/out"
grep -qE '^\| vehicle \| (8[0-9][0-9]|9[0-9][0-9]) \| [0-9]+ \|' "$T/out" || fail "vehicle row with ~800 faces"

if "$SDN" bench render --faces 0 >"$T/out" 2>&1; then fail "--faces 0 accepted"; fi
grep -q "faces" "$T/out" || fail "the usage error names the option"
echo "ok: sdn bench render"

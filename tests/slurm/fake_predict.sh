#!/bin/bash
# Stand-in for `sdn predict` in the pipeline scenarios (tests/slurm/test_pipeline.sh): checks that the run it
# predicts from is complete (RUN/ckpt/latest names the final step), writes OUT/<split>.done and exits 0.
# Knobs (environment): FAKE_PREDICT_FAIL=1 makes it fail with exit 1.
set -u
run="" split="" out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --run-dir) run=$2; shift 2 ;;
    --split) split=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "fake predict: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -d "$run" && -n "$split" && -n "$out" ]] || { echo "fake predict: --run-dir DIR --split S --out DIR required" >&2; exit 2; }
[[ "${FAKE_PREDICT_FAIL:-0}" == 1 ]] && { echo "fake predict: failing as asked" >&2; exit 1; }
grep -q '"reason":"complete"' "$run/journal.jsonl" || { echo "fake predict: $run is not trained" >&2; exit 1; }
mkdir -p "$out" && echo "predicted $split from $(cat "$run/ckpt/latest")" > "$out/$split.done"

# `sdn plan --probe` on a busy cluster: a job holds 3 of the 4 GPUs for 10 minutes. For a short stage the
# 1-GPU shape that starts now finishes first; for a long stage the 4-GPU shape that waits for the busy job
# finishes first. Both choices come from the scheduler's `sbatch --test-only` answers.
source "$(dirname "$0")/lib.sh"
w=$(workdir probe)
busy=$(sbatch --parsable -J sdn-test-busy -p gpu-shared -n 3 --gpus-per-task=1 --time=10 -o /dev/null --wrap "sleep 600")
trap 'scancel "$busy" 2>/dev/null || true' EXIT
for _ in $(seq 30); do [[ "$(squeue -h -j "$busy" -o %T)" == RUNNING ]] && break; sleep 1; done
[[ "$(squeue -h -j "$busy" -o %T)" == RUNNING ]] || fail "busy job did not start"

plan() {  # plan STEPS -> prints the plan; the chosen line is "chosen: PARTITION x N GPUs, ..."
  stage_ini "$w/stage-$1.ini" "$1"
  "$SDN_BIN" plan --stage "$w/stage-$1.ini" --cluster local --images-per-s 1 --scaling 1:1 --ckpt-seconds 1 \
    --global-batch 4 --partition gpu-shared,gpu --probe --dry-run --walltime 30
}
note "short stage"
plan 100 | tee "$w/short.txt"
grep -q "chosen: gpu-shared x 1 GPUs" "$w/short.txt" || fail "short stage should take the free GPU now"
grep -qE "p +\+" "$w/short.txt" || fail "no probed start times in the table"
note "long stage"
plan 2000 | tee "$w/long.txt"
grep -q "chosen: gpu x 4 GPUs" "$w/long.txt" || fail "long stage should wait for the whole node"
grep -E "^\* gpu " "$w/long.txt" | grep -qv "+00:00:00p" || fail "the 4-GPU shape should start after the busy job"
echo PASS

# `sdn plan --probe` on a busy cluster: a job holds 3 of the 4 GPUs for 10 minutes. For a short stage the
# 1-GPU shape that starts now finishes first; for a long stage the 4-GPU shape that waits for the busy job
# finishes first. Both choices come from the scheduler's `sbatch --test-only` answers. Then the per-user limits:
# the busy job, read with `squeue --me`, uses them up.
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

note "per-user limits count the jobs already queued (issue 11 item 5)"
# gpu-shared limited to 2 jobs / 1 running / 4 GPUs per user: the busy job (3 GPUs, running) leaves 1 GPU, and
# it holds the only running slot, so the 1-GPU job starts when it ends (its squeue end time).
awk '/^\[partition\./ { p = $0 } { print } p == "[partition.gpu-shared]" && /^max_gpus/ { print "max_jobs = 2\nmax_running = 1\nmax_user_gpus = 4" }' \
  "$SDN_SOURCE_DIR/configs/clusters/local.ini" > "$w/local-limits.ini"
stage_ini "$w/stage-limits.ini" 100
"$SDN_BIN" plan --stage "$w/stage-limits.ini" --cluster "$w/local-limits.ini" --images-per-s 1 --scaling 1:1 \
  --ckpt-seconds 1 --global-batch 4 --partition gpu-shared --dry-run --walltime 30 | tee "$w/limits.txt"
grep -q "counted your jobs already in the queue.*gpu-shared 1 job (1 running), 3 GPUs" "$w/limits.txt" ||
  fail "the plan did not count the busy job (1 running, 3 GPUs)"
grep -q "gpu-shared x 2 GPUs: 2 GPUs do not fit the per-user limit of 4 GPUs on gpu-shared" "$w/limits.txt" ||
  fail "2 GPUs should not fit next to the busy job's 3"
grep -q "chosen: gpu-shared x 1 GPUs" "$w/limits.txt" || fail "the 1-GPU shape is the one that fits"
grep -q "holds its 1 running slot per user: the first chunk starts when one ends (+00:0" "$w/limits.txt" ||
  fail "the start does not wait for the busy job's end"
grep -E "^\* gpu-shared" "$w/limits.txt" | grep -q " +00:0[5-9]:" || fail "the table's start is not the busy job's end"
echo PASS

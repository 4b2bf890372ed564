# A reshaping chain (`sdn plan --mode chain --reshape`) switches its job shape between chunks with the real
# trainer: while another job holds 3 of the 4 GPUs for 10 minutes the plan starts on 1 GPU at once; the busy
# job then goes away, and the first job, when it continues, re-plans the rest with the scheduler's answers and
# queues its successor on 2 GPUs; elastic resume carries the run from 1 rank to 2 and it completes.
source "$(dirname "$0")/lib.sh"
common=$SDN_TEST_WORK/train-common
[[ -f $common/stage.ini && -d $common/ref/ckpt ]] || fail "fixture missing: run the slurm_train_setup test first"
w=$(workdir train-reshape)
# Two thirds of the ~180 s stage: more than one 1-GPU job can train (~80 s; one rank on this machine runs about
# as fast as two), so the run needs a successor, which then goes to 2 GPUs.
steps=$(( $(sed -n 's/^iterations_per_epoch = //p' "$common/stage.ini") * 2 / 3 ))
sed "s/^iterations_per_epoch = .*/iterations_per_epoch = $steps/" "$common/stage.ini" > "$w/stage.ini"

note "busy cluster: 3 of 4 GPUs held for 10 minutes"
busy=$(sbatch --parsable -J sdn-test-busy -p gpu-shared -n 3 --gpus-per-task=1 --time=10 -o /dev/null --wrap "sleep 600")
trap 'scancel "$busy" 2>/dev/null || true' EXIT
for _ in $(seq 30); do [[ "$(squeue -h -j "$busy" -o %T)" == RUNNING ]] && break; sleep 1; done
[[ "$(squeue -h -j "$busy" -o %T)" == RUNNING ]] || fail "busy job did not start"

note "plan ($steps steps, 1 or 2 GPUs, probed) and submit"
"$SDN_BIN" plan --stage "$w/stage.ini" --cluster local --throughput "$common/ref/journal.jsonl" --walltime 2 \
  --partition gpu-shared --gpus 1,2 --ckpt-seconds 10 --mode chain --reshape --probe --run-dir "$w/run" | tee "$w/plan.txt"
grep -q "chosen: gpu-shared x 1 GPUs" "$w/plan.txt" || fail "with 3 GPUs busy for 10 minutes the plan should start on 1 GPU"
[[ -s $w/run/jobs/replan.args ]] || fail "no jobs/replan.args"
name=$(sed -n 's/^job_name = //p' "$w/run/jobs/plan.ini")
"$SDN_BIN" submit "$w/run"
for _ in $(seq 120); do grep -q '"event":"progress"' "$w/run/journal.jsonl" && break; sleep 1; done
grep -q '"event":"progress"' "$w/run/journal.jsonl" || fail "the first chunk never reported progress"
note "the busy job ends while the first chunk trains"
scancel "$busy"

follow "$w/run" 900 || fail "run did not complete (see $w/run/status.log and $w/run/logs)"
no_jobs_left "$w/run"
check_chunks "$w/run" "$steps" 2
/usr/bin/python3 - "$w/run/journal.jsonl" <<'PY' || fail "journal check failed"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
starts = [e for e in events if e["event"] == "chunk_start"]
successors = [e for e in events if e["event"] == "submit" and "after" in e]
assert len(successors) == len(starts) - 1, successors
world = {}
for e in events:
    if e["event"] == "progress" and e.get("job_id"):
        world.setdefault(e["job_id"], set()).add(e["world_size"])
first, later = starts[0]["job_id"], [s["job_id"] for s in starts[1:]]
assert world.get(first) == {1}, ("first job should train on 1 rank", world)
assert any(world.get(j) == {2} for j in later), ("a later job should train on 2 ranks", world)
assert successors[0]["gpus"] == 2 and successors[0]["after"] == first, successors[0]
print("reshaped:", {j: sorted(w) for j, w in world.items()}, "ranks per job")
PY
grep -q "^gpus = 2$" "$w/run/jobs/plan.ini" || fail "jobs/plan.ini does not record the new shape"
grep -q "^job_name = $name$" "$w/run/jobs/plan.ini" || fail "the re-plan renamed the jobs (sdn cancel would miss some)"
"$SDN_BIN" ckpt verify "$w/run/ckpt/$(cat "$w/run/ckpt/latest")"
echo PASS

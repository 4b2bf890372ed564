# Preemption by requeue (issue 11, items 6 and 1), on the local cluster's gpu-preempt partition (lowest PriorityTier,
# PreemptMode=REQUEUE): a self-requeueing run (the stand-in trainer) is preempted by a job on gpu-shared that needs
# every GPU. Slurm sends TERM and requeues the job itself; our `scontrol requeue` then fails ("pending execution")
# and must not stop the run, or the chunk never records its end and the next start (restart count + 1) resumes.
# The run completes. The profile gives gpu-preempt 2 cores per GPU: the rank's step must get both (srun does not
# inherit sbatch's --cpus-per-task since Slurm 22.05) and chunk-start records them.
source "$(dirname "$0")/lib.sh"
w=$(workdir preempt)
awk '/^\[partition\./ { p = $0 } { if (p == "[partition.gpu-preempt]" && $1 == "cores_per_gpu") print "cores_per_gpu = 2"; else print }' \
  "$SDN_SOURCE_DIR/configs/clusters/local.ini" > "$w/local-2cores.ini"
grep -q "cores_per_gpu = 2" "$w/local-2cores.ini" || fail "profile edit failed"
stage_ini "$w/stage.ini" 200
printf '[data]\nthreads = 1\n' >> "$w/stage.ini"  # 1 loader + 1 LibTorch thread fit in 2 cores: no warning
# --steps 150: the plan's override must reach the trainer through run.ini (it would train 200 otherwise).
"$SDN_BIN" plan --stage "$w/stage.ini" --cluster "$w/local-2cores.ini" --it-per-s 5 --walltime 10 --steps 150 \
  --partition gpu-preempt --gpus 1 --ckpt-seconds 1 --run-dir "$w/run" \
  --train-command "env FAKE_SDN=$SDN_BIN bash $FAKE" | tee "$w/plan.txt"
grep -q "warning:" "$w/plan.txt" && fail "threads fit the cores, yet the plan warns"
grep -q '^#SBATCH --cpus-per-task=2$' "$w/run/jobs/run.sbatch" || fail "the job does not ask for 2 cores per rank"
"$SDN_BIN" submit "$w/run"
job=$(jobs_left "$w/run")
for _ in $(seq 60); do grep -q '"event":"progress"' "$w/run/journal.jsonl" && break; sleep 1; done
grep -q '"event":"progress"' "$w/run/journal.jsonl" || fail "the trainer never reported progress"

note "preempt job $job with a job that needs every GPU"
export SLURM_CONF
big=$(sbatch --parsable --partition=gpu-shared --gpus=4 --time=1 --output=/dev/null --wrap 'sleep 5')
for _ in $(seq 60); do grep -q '"restart":1' "$w/run/journal.jsonl" && break; sleep 1; done
grep -q '"restart":1' "$w/run/journal.jsonl" || { scancel "$big"; fail "job $job did not restart after the preemption"; }
follow "$w/run" 240 || fail "run did not complete after the preemption (see $w/run/logs)"
no_jobs_left "$w/run"

note "journal"
grep -E '"event":"(chunk_start|chunk_end|run_end|rank_cpus)"' "$w/run/journal.jsonl"
grep -q "PREEMPTION" "$w"/run/logs/*.out || fail "the log does not show the preemption"
/usr/bin/python3 - "$w/run/journal.jsonl" "$job" <<'PY' || fail "journal check failed"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
job = sys.argv[2]
starts = [e for e in ev if e["event"] == "chunk_start"]
assert len(starts) >= 2 and all(s["job_id"] == job for s in starts), starts
assert [s["restart"] for s in starts[:2]] == [0, 1], starts
assert all(s.get("cpus_per_rank") == 2 and "warning" not in s for s in starts), starts
cpus = [e for e in ev if e["event"] == "rank_cpus"]
assert cpus and all(c["cpus"] == 2 for c in cpus), ("the rank's step did not get 2 cores", cpus)
ends = [e for e in ev if e["event"] == "chunk_end"]
first = ends[0]  # the preempted chunk: its own end (continue, then a failed requeue) or none (requeued)
assert first["action"] in ("continue", "requeued"), first
assert starts[1]["step"] > 0, ("the restarted chunk resumed from scratch", starts[1])
runs = [e for e in ev if e["event"] == "run_end"]
assert [r["reason"] for r in runs] == ["complete"], runs
assert ends[-1]["action"] == "done" and ends[-1]["step"] == 150, ("trained what was not planned", ends[-1])
print("journal ok: preempted chunk", first["action"], "; restarted at step", starts[1]["step"])
PY
"$SDN_BIN" status "$w/run" | tee "$w/status.txt"
grep -q "state: complete" "$w/status.txt" || fail "status does not say complete"
echo PASS

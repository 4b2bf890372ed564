# `sdn pipeline` on the real local cluster, with the trainer and predictor stand-ins (fake_trainer.sh,
# fake_predict.sh) so that only the graph matters:
#  1. graph order: a stage's first chunk starts only after the jobs making its inputs have ended;
#  2. resume after cancel: cancelled mid-graph, `sdn pipeline submit` continues from what is done;
#  3. a failing stage stops its dependents with a clear reason, and the pipeline status says so.
source "$(dirname "$0")/lib.sh"
w=$(workdir pipeline)
for s in a b c; do stage_ini "$w/$s.ini" 40; done
write_pipeline() {  # FILE [extra lines for stage b]
  cat > "$1" <<EOF
[pipeline]
name = t
cluster = local
walltime = 5m
train_command = env FAKE_SDN=$SDN_BIN FAKE_STEP_TIME=0.15 bash $FAKE
predict_command = bash $SDN_SOURCE_DIR/tests/slurm/fake_predict.sh

[stage.a]
config = a.ini
partition = gpu-shared
gpus = 1
images_per_s = 10
predict = train,test
predict_walltime = 2m

[stage.b]
config = b.ini
partition = gpu-shared
gpus = 1
images_per_s = 10
input.textural.semantic_dir = a:predict
$2

[stage.c]
config = c.ini
partition = gpu-shared
gpus = 1
images_per_s = 10
input.derender.pretrained = b:checkpoint
EOF
}
all_jobs_left() { squeue -h -o %j | grep -c "^sdn-[abc]-" || true; }
wait_no_jobs() {
  for _ in $(seq 90); do [[ "$(all_jobs_left)" == 0 ]] && return 0; sleep 1; done
  scancel -n "$(squeue -h -o %j | grep '^sdn-[abc]-' | sort -u | paste -sd,)" || true
  fail "jobs of the pipeline still queued"
}

note "plan and submit the graph a -> a.predict -> b -> c"
write_pipeline "$w/pipeline.ini" ""
"$SDN_BIN" pipeline plan "$w/pipe" --spec "$w/pipeline.ini" > "$w/plan.txt" || { cat "$w/plan.txt"; fail "plan failed"; }
grep -q "total along the graph" "$w/plan.txt" || fail "the plan prints no running-time table"
grep -A3 "^\[derender\]" "$w/pipe/stages/c.ini" | grep -q "^pretrained = $w/pipe/b$" || fail "c's input is not b's run directory"
grep -q "pipeline gate $w/pipe --node b " "$w/pipe/b/jobs/run.sbatch" || fail "b's job script has no gate"
"$SDN_BIN" pipeline submit "$w/pipe" | tee "$w/submit1.txt"
grep -q "^  b .* after " "$w/submit1.txt" || fail "b was not queued after a.predict's job"

note "cancel while b trains"
for _ in $(seq 180); do grep -q '"event":"progress"' "$w/pipe/b/journal.jsonl" 2>/dev/null && break; sleep 1; done
grep -q '"event":"progress"' "$w/pipe/b/journal.jsonl" 2>/dev/null || { "$SDN_BIN" pipeline status "$w/pipe"; fail "b never trained"; }
"$SDN_BIN" pipeline cancel "$w/pipe"
wait_no_jobs
sleep 2
"$SDN_BIN" pipeline status "$w/pipe" | tee "$w/status1.txt"
grep -Eq "^  a +complete" "$w/status1.txt" || fail "a is not complete after the cancel"
grep -Eq "^  b +cancelled" "$w/status1.txt" || fail "b is not cancelled"
grep -Eq "^  c +cancelled" "$w/status1.txt" || fail "c is not cancelled"

note "submit again: resumes from what is done"
"$SDN_BIN" pipeline submit "$w/pipe" | tee "$w/submit2.txt"
grep -Eq "^  a +complete" "$w/submit2.txt" || fail "a was submitted again"
grep -Eq "^  a.predict +complete" "$w/submit2.txt" || fail "a.predict was submitted again"
rc=0
timeout 420 "$SDN_BIN" pipeline status "$w/pipe" --follow --interval 3 > "$w/follow.txt" 2>&1 || rc=$?
"$SDN_BIN" pipeline status "$w/pipe" | tee "$w/status2.txt"
(( rc == 0 )) || fail "the resumed pipeline did not complete (status --follow exit $rc)"
[[ -s "$w/pipe/a/predict/train.done" && -s "$w/pipe/a/predict/test.done" ]] || fail "a's predictions are missing"
/usr/bin/python3 - "$w/pipe" <<'PY' || fail "journal check failed"
import json, sys
def events(stage):
    return [json.loads(l) for l in open(f"{sys.argv[1]}/{stage}/journal.jsonl") if l.strip()]
def first(ev, kind, **kw):
    return next(e for e in ev if e["event"] == kind and all(e.get(k) == v for k, v in kw.items()))
a, b, c = events("a"), events("b"), events("c")
a_done = first(a, "train_end", reason="complete")["time"]
a_pred = first(a, "predict_start")["time"]
a_pred_end = first(a, "predict_end", exit_code=0)["time"]
assert sum(e["event"] == "chunk_start" for e in a) == 1, "a trained again after the resume"
b_chunks = [e for e in b if e["event"] == "chunk_start"]
assert a_done <= a_pred <= a_pred_end <= b_chunks[0]["time"], (a_done, a_pred, a_pred_end, b_chunks[0]["time"])
assert len(b_chunks) == 2 and b_chunks[1]["step"] > 0, ("b did not resume from its checkpoint", b_chunks)
b_done = first(b, "train_end", reason="complete")["time"]
c_chunks = [e for e in c if e["event"] == "chunk_start"]
assert c_chunks and c_chunks[0]["time"] >= b_done, ("c started before b ended", c_chunks, b_done)
assert first(c, "run_end", reason="complete")
print("journal ok: a ->", len(b_chunks), "chunks of b (resumed) -> c")
PY
grep -q "pipeline: complete" "$w/status2.txt" || fail "status does not say complete"

note "a failing stage stops its dependents"
write_pipeline "$w/failing.ini" "train_command = false"
"$SDN_BIN" pipeline plan "$w/pipe2" --spec "$w/failing.ini" > "$w/plan2.txt" || { cat "$w/plan2.txt"; fail "plan failed"; }
"$SDN_BIN" pipeline submit "$w/pipe2" > /dev/null
rc=0
timeout 300 "$SDN_BIN" pipeline status "$w/pipe2" --follow --interval 3 > "$w/follow2.txt" 2>&1 || rc=$?
wait_no_jobs
"$SDN_BIN" pipeline status "$w/pipe2" | tee "$w/status3.txt"
(( rc == 1 )) || fail "status --follow of a failed pipeline exited $rc, not 1"
grep -Eq "^  b +stopped" "$w/status3.txt" || fail "b is not stopped"
grep -Eq "^  c +stopped" "$w/status3.txt" || fail "c is not stopped"
grep -q "why: upstream: earlier stage b is stopped (failure" "$w/status3.txt" || fail "c's reason does not name b's failure"
grep -q '"event":"chunk_start"' "$w/pipe2/c/journal.jsonl" && fail "c trained although b failed"
grep -q "pipeline: stopped" "$w/status3.txt" || fail "the pipeline is not reported stopped"
echo PASS

# `sdn cancel` of a running self-requeueing run: the cancel is journaled before scancel, the trainer gets
# SIGTERM, checkpoints and exits 3, and the job script stops instead of requeueing; `sdn status` says
# "cancelled" and a later `sdn submit` resumes from the checkpoint.
source "$(dirname "$0")/lib.sh"
w=$(workdir cancel)
stage_ini "$w/stage.ini" 250
"$SDN_BIN" plan --stage "$w/stage.ini" --cluster local --it-per-s 5 --walltime 2 --partition gpu-shared --gpus 1 \
  --ckpt-seconds 1 --run-dir "$w/run" --train-command "env FAKE_SDN=$SDN_BIN bash $FAKE" > /dev/null
"$SDN_BIN" submit "$w/run"
for _ in $(seq 60); do grep -q '"event":"progress"' "$w/run/journal.jsonl" && break; sleep 1; done
grep -q '"event":"progress"' "$w/run/journal.jsonl" || fail "the trainer never reported progress"
"$SDN_BIN" cancel "$w/run"
for _ in $(seq 40); do [[ -z "$(jobs_left "$w/run")" ]] && break; sleep 1; done
no_jobs_left "$w/run"
sleep 2
"$SDN_BIN" status "$w/run" | tee "$w/status.txt"
grep -q "state: cancelled" "$w/status.txt" || fail "status does not say cancelled"
/usr/bin/python3 - "$w/run/journal.jsonl" <<'PY' || fail "journal check failed"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
kinds = [e["event"] for e in ev]
assert kinds.index("cancel") < max(i for i, k in enumerate(kinds) if k == "chunk_end"), kinds
end = [e for e in ev if e["event"] == "chunk_end"][-1]
assert end["exit_code"] == 3 and end["action"] == "stop" and end["reason"] == "cancelled", end
assert kinds.count("chunk_start") == 1, kinds
print("journal ok: cancelled at step", end["step"])
PY
step=$(sed -n 's/^step-0*\([0-9]*\)\.h5$/\1/p' "$w/run/ckpt/latest")
(( step > 0 )) || fail "no checkpoint was written on SIGTERM"
echo PASS

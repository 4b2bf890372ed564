# A run that needs >= 3 time-limited jobs (2-minute limit, USR2 48 s before it) in MODE requeue or chain, with
# the stand-in trainer: it completes, the journal lists every chunk with contiguous steps, each chunk but the
# last ended with exit 3 and a newer checkpoint, and the final checkpoint digest equals an uninterrupted run.
source "$(dirname "$0")/lib.sh"
mode=${1:?requeue|chain}
w=$(workdir "chunks-$mode")
steps=800
stage_ini "$w/stage.ini" $steps

note "plan ($mode)"
"$SDN_BIN" plan --stage "$w/stage.ini" --cluster local --it-per-s 2.5 --walltime 2 --partition gpu-shared --gpus 2 \
  --ckpt-seconds 1 --mode "$mode" --chain-jobs 10 --max-chunks 20 --run-dir "$w/run" \
  --train-command "env FAKE_SDN=$SDN_BIN FAKE_STEP_TIME=0.2 bash $FAKE"
grep -q -- "--signal=B:USR2@48" "$w/run/jobs/run.sbatch" || fail "unexpected signal grace"

note "submit and follow"
"$SDN_BIN" submit "$w/run"
follow "$w/run" 720 || fail "run did not complete (see $w/run/status.log and $w/run/logs)"

note "journal"
cat "$w/run/journal.jsonl" | grep -E '"event":"(submit|chunk_start|chunk_end|run_end)"'
chunks=$(journal_count "$w/run" chunk_start)
(( chunks >= 3 )) || fail "only $chunks chunk(s); the test needs >= 3"
/usr/bin/python3 - "$w/run/journal.jsonl" "$steps" <<'PY' || fail "journal check failed"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
total = int(sys.argv[2])
starts = [e for e in events if e["event"] == "chunk_start"]
ends = [e for e in events if e["event"] == "chunk_end"]
assert len(starts) == len(ends), (len(starts), len(ends))
prev = 0
for s, e in zip(starts, ends):
    assert s["step"] == prev, ("chunk starts at", s["step"], "expected", prev)
    assert e["job_id"] == s["job_id"] and s["job_id"], (s, e)
    assert s["node"], s
    prev = e["step"]
for e in ends[:-1]:
    assert e["exit_code"] == 3 and e["action"] == "continue" and e["steps_done"] >= 0, e
assert ends[-1]["action"] == "done" and ends[-1]["step"] == total, ends[-1]
run_end = [e for e in events if e["event"] == "run_end"]
assert run_end and run_end[-1]["reason"] == "complete", run_end
print("journal ok:", len(starts), "chunks")
PY
if [[ $mode == requeue ]]; then
  grep -q '"restart":2' "$w/run/journal.jsonl" || fail "requeue mode did not restart the same job twice"
  [[ $(ls "$w"/run/logs/*.out | wc -l) == 1 ]] || fail "requeue mode must append to one log (--open-mode=append)"
fi
no_jobs_left "$w/run"

note "uninterrupted reference"
mkdir -p "$w/ref/ckpt"
cp "$w/run/run.ini" "$w/ref/run.ini"
FAKE_SDN=$SDN_BIN FAKE_STEP_TIME=0 bash "$FAKE" --config "$w/ref/run.ini" --run-dir "$w/ref" > "$w/ref.log"
a=$(sed -n 's/^digest //p' "$w/run/ckpt/$(cat "$w/run/ckpt/latest")")
b=$(sed -n 's/^digest //p' "$w/ref/ckpt/$(cat "$w/ref/ckpt/latest")")
echo "digest chunked $a, uninterrupted $b"
[[ -n "$a" && "$a" == "$b" ]] || fail "final digest differs from the uninterrupted run"
"$SDN_BIN" status "$w/run" --plot > /dev/null
[[ -s "$w/run/plots/loss.svg" && -s "$w/run/plots/timeline.svg" ]] || fail "status --plot wrote no images"
echo PASS

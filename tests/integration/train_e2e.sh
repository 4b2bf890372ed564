# A 2-rank run on synthetic data trains (the loss goes down), evaluates and predicts (issue 3 "done when");
# a second trainer on the same run directory is refused while the first holds it; the deadline watchdog stops
# a run on its own, with a checkpoint, before a deadline that no signal announces (issue 4 §3).
source "$(dirname "$0")/lib.sh"
make_data
sed -i 's/^iterations_per_epoch = .*/iterations_per_epoch = 24/; s/^global_batch = .*/global_batch = 4/' "$CONFIG"
sed -i 's/^flip = true/flip = false/' "$CONFIG"  # a fixed view per sample: the loss curve shows learning, not noise

note "2-rank training, 24 steps"
"${MPIRUN[@]}" "$SDN" $(train_args "$T/run") --optim.lr 0.02 > "$T/train.log" 2>&1 || fail "2-rank training failed" "$T/train.log"
check "the loss goes down: mean of the last 6 steps < 0.8 x mean of the first 6"
"$PY" - "$T/run/logs/metrics.tsv" <<'PY' || fail "the loss did not go down" "$T/run/logs/metrics.tsv"
import sys
loss = [float(f.split("=")[1]) for l in open(sys.argv[1]) for f in l.split("\t")[1:] if f.startswith("loss=")]
first, last = sum(loss[:6]) / 6, sum(loss[-6:]) / 6
print(f"steps {len(loss)}: first {first:.4f}, last {last:.4f}")
sys.exit(0 if len(loss) == 24 and last < 0.8 * first else 1)
PY
pass "loss decreased"

note "2-rank evaluation and prediction"
"${MPIRUN[@]}" "$SDN" eval --run-dir "$T/run" --split train --scales 48 > "$T/eval.log" 2>&1 || fail "eval failed" "$T/eval.log"
grep -q "^mIoU " "$T/eval.log" || fail "eval printed no mIoU" "$T/eval.log"
ls "$T"/run/eval/train-step-24.{txt,csv,json} > /dev/null || fail "eval wrote no txt/csv/json"
"$PY" -c "import json,sys; j=json.load(open('$T/run/eval/train-step-24.json')); sys.exit(0 if 0 <= j['mIoU'] <= 1 and j['samples'] == 8 else 1)" ||
  fail "eval json is wrong" "$T/run/eval/train-step-24.json"
"${MPIRUN[@]}" "$SDN" predict --run-dir "$T/run" --split train --indices 0,3,5 --scales 48 > "$T/predict.log" 2>&1 ||
  fail "predict failed" "$T/predict.log"
n=$(find "$T/run/predict" -name '*_vis.png' | wc -l)
[[ $n == 3 ]] || fail "predict wrote $n visualisations, expected 3" "$T/predict.log"
pass "eval (mIoU, txt/csv/json) and predict (3 label PNGs + strips) on 2 ranks"

note "weights export/import through the stage config (the registry builds the module)"
"$SDN" weights export --from "$(ckpt_file "$T/run" 24)" --out "$T/trained.h5" > "$T/wexp.log" 2>&1 ||
  fail "weights export --from failed" "$T/wexp.log"
"$SDN" weights import --config "$CONFIG" --in "$T/trained.h5" --check > "$T/wimp.log" 2>&1 ||
  fail "weights import --config of the trained model failed" "$T/wimp.log"
grep -q "load into drn_d_22" "$T/wimp.log" || fail "import did not check against drn_d_22" "$T/wimp.log"
"$SDN" weights export --config "$HERE/../../configs/semantic.ini" --out "$T/fresh.h5" > "$T/wfresh.log" 2>&1 ||
  fail "weights export --config configs/semantic.ini failed on that file's own keys" "$T/wfresh.log"
rc=0; "$SDN" weights import --config "$CONFIG" --in "$T/fresh.h5" --check > "$T/wbad.log" 2>&1 || rc=$?
[[ $rc != 0 ]] && grep -q "resnet50dilated8_ppm_deepsup" "$T/wbad.log" ||
  fail "a ResNet-50 file loaded into the DRN-D-22 config without an error naming the models" "$T/wbad.log"
pass "export from a checkpoint and from configs/semantic.ini; import checks the stage's module"

note "a second trainer on a locked run directory is refused"
start_train "$T/first.log" "$T/locked" --train.iterations_per_epoch 400
for _ in $(seq 100); do [[ -e $T/locked/LOCK ]] && break; sleep 0.2; done
[[ -e $T/locked/LOCK ]] || fail "the first trainer took no lock" "$T/first.log"
rc=0; train "$T/second.log" "$T/locked" --train.iterations_per_epoch 400 || rc=$?
kill -TERM "$TRAIN_PID" 2>/dev/null; wait_rc "$TRAIN_PID"
[[ $rc == 1 ]] || fail "the second trainer exited $rc, expected 1" "$T/second.log"
grep -q "is in use by pid $TRAIN_PID" "$T/second.log" || fail "the refusal does not name the owner" "$T/second.log"
[[ $RC == 3 ]] || fail "the first trainer, sent SIGTERM, exited $RC instead of 3" "$T/first.log"
pass "refused with the owner named; the owner stopped with exit 3 on SIGTERM"

note "the deadline watchdog stops before a deadline without any signal"
deadline=$(( $(date +%s) + 25 ))
rc=0; train "$T/deadline.log" "$T/deadline" --train.iterations_per_epoch 400 --stop.deadline "$deadline" --stop.margin_seconds 5 || rc=$?
now=$(date +%s)
[[ $rc == 3 ]] || fail "exit $rc at the deadline, expected 3" "$T/deadline.log"
(( now <= deadline )) || fail "stopped $((now - deadline)) s after the deadline" "$T/deadline.log"
grep -q '"reason":"deadline"' "$T/deadline/journal.jsonl" || fail "journal does not record a deadline stop" "$T/deadline/journal.jsonl"
"$SDN" ckpt verify "$T"/deadline/ckpt/step-*.h5 > /dev/null || fail "the deadline checkpoint does not verify"
pass "stopped $((deadline - now)) s before the deadline with a valid checkpoint"
echo PASS

# A chunk that ends with exit 3 but without a newer checkpoint stops the run after one chunk (no requeue
# loop), and `sdn status` says why.
source "$(dirname "$0")/lib.sh"
w=$(workdir no-progress)
stage_ini "$w/stage.ini" 250
"$SDN_BIN" plan --stage "$w/stage.ini" --cluster local --it-per-s 5 --walltime 1 --partition gpu-shared --gpus 1 \
  --ckpt-seconds 1 --mode requeue --run-dir "$w/run" \
  --train-command "env FAKE_SDN=$SDN_BIN FAKE_NO_CKPT=1 bash $FAKE"
"$SDN_BIN" submit "$w/run"
if follow "$w/run" 180; then fail "a run without checkpoints completed"; fi
"$SDN_BIN" status "$w/run" | tee "$w/status.txt"
grep -q "state: stopped (no_progress)" "$w/status.txt" || fail "status does not show the no-progress stop"
grep -q "no checkpoint was written" "$w/status.txt" || fail "status does not say why"
[[ $(journal_count "$w/run" chunk_start) == 1 ]] || fail "the guard let more than one chunk run"
no_jobs_left "$w/run"
echo PASS

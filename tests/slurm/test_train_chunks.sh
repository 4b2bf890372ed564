# The issue's scenarios with the REAL trainer on the local Slurm (the stage and the uninterrupted reference
# come from the fixture train_setup.sh):
#   requeue | chain: the 2-rank semantic run in 2-minute jobs needs >= 3 chunks, completes, the journal lists
#                    every chunk with contiguous steps (each but the last: exit 3 and a newer checkpoint), the
#                    final checkpoint equals the uninterrupted run's bit for bit, no step computed is lost, and
#                    `sdn bench chain` reports the cost of chunking;
#   no-progress:     the checkpoint directory is replaced by a file so no save can land; the first chunk stops
#                    the run (no requeue loop) and `sdn status` says why.
source "$(dirname "$0")/lib.sh"
mode=${1:?requeue|chain|no-progress}
common=$SDN_TEST_WORK/train-common
[[ -f $common/stage.ini && -d $common/ref/ckpt ]] || fail "fixture missing: run the slurm_train_setup test first"
w=$(workdir "train-$mode")

note "plan and submit ($mode)"
plan_mode=$([[ $mode == chain ]] && echo chain || echo requeue)
"$SDN_BIN" plan --stage "$common/stage.ini" --cluster local --throughput "$common/ref/journal.jsonl" --walltime 2 \
  --partition gpu-shared --gpus 2 --max-chunks 12 --ckpt-seconds 10 --mode "$plan_mode" --chain-jobs 8 --run-dir "$w/run"
grace=$(sed -n 's/^#SBATCH --signal=B:USR2@//p' "$w/run/jobs/run.sbatch")
(( grace >= 35 && grace <= 40 )) || fail "signal grace ${grace:-?} s: train_setup.sh sizes the stage for ~36 s"
if [[ $mode == no-progress ]]; then
  rm -rf "$w/run/ckpt" && echo "not a directory" > "$w/run/ckpt"   # root ignores permissions; a file does not
fi
"$SDN_BIN" submit "$w/run"

if [[ $mode == no-progress ]]; then
  if follow "$w/run" 300; then fail "a run that cannot checkpoint completed"; fi
  "$SDN_BIN" status "$w/run" | tee "$w/status.txt"
  grep -qE "state: stopped \((no_progress|failure)\)" "$w/status.txt" || fail "status does not show the stop"
  grep -q "why:.*$w/run/ckpt" "$w/status.txt" || fail "status does not say why (naming the checkpoint directory)"
  [[ $(journal_count "$w/run" chunk_start) == 1 ]] || fail "the guard let more than one chunk run"
  no_jobs_left "$w/run"
  echo PASS
  exit 0
fi

follow "$w/run" 1000 || fail "run did not complete (see $w/run/status.log and $w/run/logs)"
no_jobs_left "$w/run"

note "journal"
grep -E '"event":"(submit|chunk_start|chunk_end|run_end)"' "$w/run/journal.jsonl"
total=$(sed -n 's/^iterations_per_epoch = //p' "$common/stage.ini")
check_chunks "$w/run" "$total" 3
if [[ $mode == requeue ]]; then
  grep -q '"restart":2' "$w/run/journal.jsonl" || fail "requeue mode did not restart the same job twice"
  [[ $(ls "$w"/run/logs/*.out | wc -l) == 1 ]] || fail "requeue mode must append to one log (--open-mode=append)"
fi

note "final weights vs the uninterrupted run"
final() { echo "$1/ckpt/$(cat "$1/ckpt/latest")"; }
"$SDN_BIN" ckpt digest "$(final "$w/run")" "$(final "$common/ref")"
"$SDN_BIN" ckpt diff "$(final "$w/run")" "$(final "$common/ref")" > "$w/diff.txt" \
  || { cat "$w/diff.txt"; fail "final weights differ from the uninterrupted run"; }

note "cost of chunking"
"$SDN_BIN" bench chain --run "$w/run" --reference "$common/ref" | tee "$w/bench-chain.md"
grep -q "steps lost 0 " "$w/bench-chain.md" || fail "a chunk computed steps it did not save"

"$SDN_BIN" status "$w/run" --plot > /dev/null
[[ -s "$w/run/plots/loss.svg" && -s "$w/run/plots/timeline.svg" ]] || fail "status --plot wrote no images"
echo PASS

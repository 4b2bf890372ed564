#!/bin/bash
# Stand-in for `sdn train` that honours the trainer contract exactly, so the job scripts, the journal and the
# cancel path and the scheduler-facing tests run on the real local cluster without training anything:
#   sdn train --config RUN/run.ini --run-dir RUN   (the watchdog's deadline comes from Slurm or --stop.deadline)
#   exit 0 = complete, 3 = stopped early with a valid checkpoint (USR2/TERM or deadline), other = failure;
#   checkpoints RUN/ckpt/step-%08d.h5, RUN/ckpt/latest names the newest complete one (atomic rename);
#   progress/checkpoint/train_end events appended to RUN/journal.jsonl (through `sdn journal append`).
# Every rank runs this; rank 0 does the work, the others wait for the stop or the end, like real ranks would.
# Knobs (environment): FAKE_SDN (sdn binary, required), FAKE_STEP_TIME (s per step, default 0.2).
set -u
config="" run="" deadline=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --run-dir) run=$2; shift 2 ;;
    --stop.deadline) deadline=$2; shift 2 ;;
    *) echo "fake trainer: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -f "$config" && -d "$run" ]] || { echo "fake trainer: --config FILE and --run-dir DIR required" >&2; exit 2; }
sdn=${FAKE_SDN:?FAKE_SDN must name the sdn binary}
# Total steps as the trainer computes them: [train] epochs x iterations_per_epoch.
ini_int() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p" "$config" | head -1; }
epochs=$(ini_int epochs) iters=$(ini_int iterations_per_epoch)
total=$(( ${epochs:-1} * ${iters:-0} ))
(( total > 0 )) || { echo "fake trainer: $config has no [train] iterations_per_epoch" >&2; exit 2; }
step_time=${FAKE_STEP_TIME:-0.2}
rank=${SLURM_PROCID:-0}
world=${SLURM_NTASKS:-1}

stop=""
trap 'stop=signal' USR2 TERM

latest_step() {
  local name
  name=$(cat "$run/ckpt/latest" 2>/dev/null) || { echo 0; return; }
  name=${name#step-}; name=${name%.h5}
  echo $((10#$name))
}

save() {  # checkpoint = a file whose content is a digest chain, then the pointer, each by atomic rename
  local t0=$SECONDS f
  f=$(printf 'step-%08d.h5' "$step")
  printf 'fake checkpoint\nstep %d\ndigest %s\n' "$step" "$digest" > "$run/ckpt/$f.tmp" && mv "$run/ckpt/$f.tmp" "$run/ckpt/$f" || return 1
  printf '%s\n' "$f" > "$run/ckpt/latest.tmp" && mv "$run/ckpt/latest.tmp" "$run/ckpt/latest" || return 1
  "$sdn" journal append --run-dir "$run" --event checkpoint --json "{\"step\": $step, \"seconds\": $((SECONDS - t0))}"
}

if [[ "$rank" != 0 ]]; then
  while :; do
    (( $(latest_step) >= total )) && exit 0
    [[ -n "$stop" ]] && { sleep 1; (( $(latest_step) >= total )) && exit 0; exit 3; }
    sleep 0.1
  done
fi

# The cores Slurm gave this rank's step: srun's --cpus-per-task shows as TresPerTask=cpu:N; without it (srun does not
# inherit sbatch's value since 22.05) the step has one core per task. The job script's real count, journaled.
cpus=$(scontrol show step "${SLURM_JOB_ID:-0}.${SLURM_STEP_ID:-0}" 2>/dev/null | grep -o 'TresPerTask=[^ ]*' | grep -o 'cpu:[0-9]*' | cut -d: -f2)
"$sdn" journal append --run-dir "$run" --event rank_cpus --json "{\"cpus\": ${cpus:-1}, \"restart\": ${SLURM_RESTART_COUNT:-0}}"

step=$(latest_step)
digest=$(sed -n 's/^digest //p' "$run/ckpt/$(cat "$run/ckpt/latest" 2>/dev/null)" 2>/dev/null || true)
digest=${digest:-seed}
echo "fake trainer: rank 0 of $world resumes at step $step of $total (deadline ${deadline})"
while (( step < total )); do
  reason=""
  [[ -n "$stop" ]] && reason=signal
  (( deadline > 0 && $(date +%s) >= deadline - 5 )) && reason=deadline
  if [[ -n "$reason" ]]; then
    # More stop signals may follow (Slurm signals every process of the step, srun forwards the script's): the real
    # trainer is one process that only raises a flag; here they would kill the children that write the checkpoint.
    trap '' USR2 TERM
    save || { "$sdn" journal append --run-dir "$run" --event train_end --json "{\"reason\": \"error\", \"step\": $step}"; exit 1; }
    "$sdn" journal append --run-dir "$run" --event train_end --json "{\"reason\": \"$reason\", \"step\": $step}"
    exit 3
  fi
  sleep "$step_time"
  step=$((step + 1))
  digest=$(printf '%s:%d' "$digest" "$step" | md5sum | cut -c1-16)
  if (( step % 10 == 0 )); then
    loss=$(awk -v s="$step" 'BEGIN { printf "%.4f", 2.0 / (1 + s / 50.0) }')
    "$sdn" journal append --run-dir "$run" --event progress --json \
      "{\"step\": $step, \"total_steps\": $total, \"images_per_s\": $(awk -v w="$world" -v t="$step_time" 'BEGIN { printf "%.2f", (t > 0 ? w / t : 0) }'), \"loss\": $loss, \"world_size\": $world}"
  fi
done
save || exit 1
"$sdn" journal append --run-dir "$run" --event train_end --json "{\"reason\": \"complete\", \"step\": $step}"
exit 0

# The issue's scenarios with the REAL trainer (enable: cmake -DSDN_SLURM_TRAINER_TESTS=ON; label slurm):
#   requeue | chain: a 2-rank semantic run (drn_d_22, synthetic vKITTI) with 2-minute jobs needs >= 3 chunks,
#                    completes, the journal lists every chunk, and the final weights equal (digest) those of an
#                    uninterrupted `sdn train` of the same steps;
#   no-progress:     the checkpoint directory is replaced by a file so no save can land; the first chunk stops
#                    the run (no requeue loop) and `sdn status` says why.
# Sizes: SDN_TRAIN_STEPS (default 60) and the tiny synthetic set below keep it to a few minutes on 2 cores;
# raise the steps if a chunk finishes the run before the third job.
source "$(dirname "$0")/lib.sh"
mode=${1:?requeue|chain|no-progress}
w=$(workdir "train-$mode")
steps=${SDN_TRAIN_STEPS:-60}

note "synthetic data"
"$SDN_BIN" synth --layout vkitti1 --out "$w/vkitti" --worlds 0001 --variations clone --frames 8 --width 96 --height 32
"$SDN_BIN" pack --src "$w/vkitti" --out "$w/shards" --split all
cat > "$w/stage.ini" <<INI
stage = semantic
[data]
shards = $w/shards
split = all
eval_split = all
[model]
arch = drn_d_22
num_classes = 14
[augment]
short_sides = 32
max_long_side = 96
[train]
epochs = 1
iterations_per_epoch = $steps
global_batch = 2
per_rank_batch = 1
threads = 1
log_every = 2
eval_every = 0
[ckpt]
every_steps = 0
INI

note "plan and submit ($mode)"
plan_mode=$([[ $mode == chain ]] && echo chain || echo requeue)
"$SDN_BIN" plan --stage "$w/stage.ini" --cluster local --it-per-s 0.4 --walltime 2 --partition gpu-shared --gpus 2 --max-chunks 40 \
  --ckpt-seconds 2 --mode "$plan_mode" --chain-jobs 30 --run-dir "$w/run"
if [[ $mode == no-progress ]]; then
  rm -rf "$w/run/ckpt" && echo "not a directory" > "$w/run/ckpt"   # root ignores permissions; a file does not
fi
"$SDN_BIN" submit "$w/run"

if [[ $mode == no-progress ]]; then
  if follow "$w/run" 300; then fail "a run that cannot checkpoint completed"; fi
  "$SDN_BIN" status "$w/run" | tee "$w/status.txt"
  grep -qE "state: stopped \((no_progress|failure)\)" "$w/status.txt" || fail "status does not show the stop"
  [[ $(journal_count "$w/run" chunk_start) == 1 ]] || fail "the guard let more than one chunk run"
  no_jobs_left "$w/run"
  echo PASS
  exit 0
fi

follow "$w/run" 1400 || fail "run did not complete (see $w/run/status.log and $w/run/logs)"
chunks=$(journal_count "$w/run" chunk_start)
(( chunks >= 3 )) || fail "only $chunks chunk(s); raise SDN_TRAIN_STEPS"
no_jobs_left "$w/run"

note "uninterrupted reference (2 ranks, same steps)"
mkdir -p "$w/ref"
mpirun --allow-run-as-root --oversubscribe -np 2 "$SDN_BIN" train --config "$w/stage.ini" --run-dir "$w/ref" > "$w/ref.log" 2>&1 \
  || fail "reference run failed (see $w/ref.log)"
/usr/bin/python3 - "$w/run/ckpt" "$w/ref/ckpt" <<'PY' || fail "final weights differ from the uninterrupted run"
import hashlib, sys, h5py
def digest(ckpt_dir):
    name = open(ckpt_dir + "/latest").read().strip()
    h = hashlib.sha256()
    with h5py.File(ckpt_dir + "/" + name, "r") as f:
        names = []
        # The weights: every dataset under a "model" group (tensors/model/... in checkpoint format 1).
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and "/model/" in "/" + n else None)
        assert names, "no datasets under a model group in " + name
        for n in sorted(names):
            h.update(n.encode()); h.update(f[n][()].tobytes())
    return h.hexdigest()
a, b = digest(sys.argv[1]), digest(sys.argv[2])
print("chunked", a, "\nuninterrupted", b)
sys.exit(0 if a == b else 1)
PY
echo PASS

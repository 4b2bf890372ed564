# The embedded cluster's life cycle on its own directory and ports: up, sinfo shows the Expanse partitions and
# 4 GPUs, up again is a no-op, a tiny sbatch job with 2 GPUs runs (one GPU bound per task), down stops every
# daemon, down again is harmless.
source "$(dirname "$0")/lib.sh"
dir=${SDN_TEST_LIFECYCLE_CLUSTER:-$(workdir cluster-lifecycle)/cluster}
"$SDN_BIN" cluster down --dir "$dir" > /dev/null 2>&1 || true   # leftovers of an aborted earlier run
rm -rf "$dir"
mkdir -p "$SDN_TEST_WORK"
out=$SDN_TEST_WORK/cluster-lifecycle-tiny.out
export SLURM_CONF=$dir/slurm.conf
trap '"$SDN_BIN" cluster down --dir "$dir" >/dev/null 2>&1 || true' EXIT

note "up"
"$SDN_BIN" cluster up --dir "$dir" | tee "$SDN_TEST_WORK/up1.txt"
grep -q "export SLURM_CONF=$dir/slurm.conf" "$SDN_TEST_WORK/up1.txt" || fail "up does not print how to use the cluster"
parts=$(sinfo -h -o "%P %G" | sort)
echo "$parts"
for p in gpu gpu-shared gpu-debug gpu-preempt; do
  grep -qE "^$p\*? gpu:4" <<< "$parts" || fail "partition $p with gpu:4 missing in sinfo"
done
pids=$(cat "$dir/munge/munged.pid" "$dir/run/slurmctld.pid" "$dir/run/slurmd.pid")

note "up again (idempotent)"
"$SDN_BIN" cluster up --dir "$dir" | tee "$SDN_TEST_WORK/up2.txt"
grep -q "already up" "$SDN_TEST_WORK/up2.txt" || fail "second up did not notice the running cluster"
[[ "$(cat "$dir/munge/munged.pid" "$dir/run/slurmctld.pid" "$dir/run/slurmd.pid")" == "$pids" ]] || fail "second up restarted daemons"

note "tiny job"
id=$(sbatch --parsable -p gpu-shared -n 2 --gpus-per-task=1 --time=1 -o "$out" \
  --wrap 'srun --mpi=pmix bash -c "echo rank=\$SLURM_PROCID gpus=\$CUDA_VISIBLE_DEVICES"')
for _ in $(seq 60); do [[ -z "$(squeue -h -j "$id" -o %i 2>/dev/null)" ]] && break; sleep 1; done
cat "$out"
grep -q "rank=0 gpus=0" "$out" && grep -q "rank=1 gpus=1" "$out" || fail "tiny job did not run with one GPU per task"

note "status, down, down again"
"$SDN_BIN" cluster status --dir "$dir" || fail "status says down while up"
"$SDN_BIN" cluster down --dir "$dir"
for pid in $pids; do kill -0 "$pid" 2>/dev/null && fail "pid $pid still alive after down"; done
if "$SDN_BIN" cluster status --dir "$dir"; then fail "status says up after down"; fi
"$SDN_BIN" cluster down --dir "$dir" || fail "down on a stopped cluster failed"
echo PASS

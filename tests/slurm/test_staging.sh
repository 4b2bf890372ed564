# Node-local staging on the local cluster (issue 11, item 7), as users set it on Expanse:
# data.stage_to = <scratch>/job_$SLURM_JOB_ID. A 2-rank real-trainer run in chain mode trains in 2 jobs
# (stop.max_steps_this_run ends the first one after half the steps: the same exit-3 path as the USR2 stop, without
# waiting for a time limit). Checked:
#   * each job stages once, into its own directory, and journals it (seconds, bytes, verified by size + CRC-32);
#   * the ranks read the staged copy: the shard files they hold open (/proc/PID/fd) lie in their job's directory;
#   * a damaged copy already in a job's directory (a reused node) is detected, replaced and reported;
#   * a source shard that no longer matches its index stops the job with an error naming the file (no retry);
#   * `sdn plan --throughput RUN/journal.jsonl` counts the measured staging in every job's start-up.
source "$(dirname "$0")/lib.sh"
w=$(cd "$(workdir staging)" && pwd -P)  # no symlinks: compared with the paths of /proc/PID/fd
"$SDN_BIN" synth --layout vkitti1 --out "$w/vkitti" --worlds 0001 --variations clone --frames 4 --width 96 --height 32
"$SDN_BIN" pack --src "$w/vkitti" --out "$w/shards" --split all --shards 2
write_stage() {  # write_stage FILE SHARDS
  cat > "$1" <<INI
stage = semantic
[data]
shards = $2
split = all
eval_split = all
threads = 1
stage_to = $w/scratch/job_\$SLURM_JOB_ID
[model]
arch = drn_d_22
num_classes = 14
[augment]
short_sides = 32
max_long_side = 96
[train]
epochs = 1
iterations_per_epoch = 8
global_batch = 2
per_rank_batch = 1
threads = 1
log_every = 2
eval_every = 0
[ckpt]
every_steps = 0
[stop]
max_steps_this_run = 4
INI
}
write_stage "$w/stage.ini" "$w/shards"
plan() {  # plan RUN_DIR STAGE
  "$SDN_BIN" plan --stage "$2" --cluster local --it-per-s 1 --walltime 10 --partition gpu-shared --gpus 2 \
    --ckpt-seconds 2 --mode chain --chain-jobs 2 --run-dir "$1" > "$1.plan.txt" || { cat "$1.plan.txt"; fail "plan failed"; }
}
plan "$w/run" "$w/stage.ini"
grep -q 'stage_to = .*/job_\$SLURM_JOB_ID$' "$w/run/run.ini" || fail "run.ini lost the variable of data.stage_to"

# The shard files the trainer's ranks hold open, with their job id, until the test ends.
watch_open_shards() {
  while :; do
    for pid in $(pgrep -f -- "train --config $w/run/run.ini" || true); do
      job=$({ tr '\0' '\n' < "/proc/$pid/environ"; } 2>/dev/null | sed -n 's/^SLURM_JOB_ID=//p' || true)
      for fd in /proc/"$pid"/fd/*; do
        t=$(readlink "$fd" 2>/dev/null) || continue
        [[ $t == *-of-*.h5 ]] && echo "$job $t"
      done
    done
    sleep 0.2
  done >> "$w/open-shards.txt"
}
watch_open_shards &
watcher=$!
trap 'kill $watcher 2>/dev/null || true' EXIT

"$SDN_BIN" submit "$w/run"
read -r job1 job2 < <(/usr/bin/python3 - "$w/run/journal.jsonl" <<'PY'
import json, sys
print(*[e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "submit"][-1]["job_ids"])
PY
)
[[ -n $job1 && -n $job2 ]] || fail "the chain did not queue 2 jobs"
# The second job cannot start before the first ends (afterany): its directory gets a damaged copy first, as a
# node reused from an earlier job with the same directory would hold.
mkdir -p "$w/scratch/job_$job2"
cp "$w"/shards/all-*-of-*.h5 "$w/scratch/job_$job2/"
damaged=$(ls "$w/scratch/job_$job2"/all-*-of-*.h5 | head -n 1)
/usr/bin/python3 - "$damaged" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(2000); b = f.read(1); f.seek(2000); f.write(bytes([b[0] ^ 0xFF]))
PY
follow "$w/run" 300 || fail "the staged run did not complete (see $w/run/logs)"
no_jobs_left "$w/run"
kill "$watcher" 2>/dev/null || true

note "journal: one staging per job, into its own directory"
grep -E '"event":"(chunk_start|stage_data|chunk_end|run_end)"' "$w/run/journal.jsonl"
/usr/bin/python3 - "$w/run/journal.jsonl" "$w/shards" "$w/scratch" "$damaged" <<'PY' || fail "journal check failed"
import json, os, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
shards, scratch, damaged = sys.argv[2], sys.argv[3], sys.argv[4]
index = json.load(open(os.path.join(shards, "all-index.json")))
files = [s["file"] for s in index["shards"]]
size = sum(os.path.getsize(os.path.join(shards, f)) for f in files)
starts = [e for e in ev if e["event"] == "chunk_start"]
stages = [e for e in ev if e["event"] == "stage_data"]
assert len(starts) == 2 and len(stages) == 2, ("one staging per job expected", starts, stages)
for s, st in zip(starts, stages):
    assert st["time"] > s["time"], ("staging before its job started", s, st)
    assert st["to"] == f"{scratch}/job_{s['job_id']}", ("not the job's own directory", st)
    assert st["from"] == shards and st["nodes"] == 1, st
    assert st["seconds"] > 0 and st["bytes"] == size, (st, size)
    assert st["verified"] == "size+crc32", st
first, second = stages
assert first["files_copied"] == len(files) and first["files_kept"] == 0 and first["files_replaced"] == 0, first
# The second job found every shard in its directory, one of them damaged: only that one is copied again.
assert second["files_replaced"] == 1 and second["files_copied"] == 1, second
assert second["files_kept"] == len(files) - 1, second
assert any(damaged in w and "does not match" in w for w in second["warnings"]), second
ends = [e for e in ev if e["event"] == "chunk_end"]
assert [e["action"] for e in ends] == ["continue", "done"] and ends[-1]["step"] == 8, ends
print("journal ok:", [(st["to"], st["seconds"], st["bytes"]) for st in stages])
PY
grep -q "staged copy $damaged does not match" "$w"/run/logs/*-"$job2".out || fail "the job log does not report the damaged copy"

note "the ranks read the staged copy"
sort -u "$w/open-shards.txt" | tee "$w/open-shards.sorted"
for job in "$job1" "$job2"; do
  [[ $(grep -c "^$job $w/scratch/job_$job/all-" "$w/open-shards.sorted") == 2 ]] ||
    fail "the ranks of job $job were never seen holding both shards of job_$job open (see $w/open-shards.sorted)"
done
grep -q " $w/shards/" "$w/open-shards.sorted" && fail "a rank opened the shards on the shared file system"
[[ $(grep -vc " $w/scratch/job_" "$w/open-shards.sorted") == 0 ]] || fail "a rank opened shards outside its job's directory"

note "the planner counts the staging in every job's start-up"
grep -v '"event":"stage_data"' "$w/run/journal.jsonl" > "$w/no-staging.jsonl"
for t in staged:"$w/run/journal.jsonl" plain:"$w/no-staging.jsonl"; do
  "$SDN_BIN" plan --stage "$w/run/run.ini" --cluster local --throughput "${t#*:}" --walltime 10 --partition gpu-shared \
    --gpus 2 --dry-run > "$w/replan-${t%%:*}.txt" || { cat "$w/replan-${t%%:*}.txt"; fail "re-plan failed"; }
done
cat "$w/replan-staged.txt"
/usr/bin/python3 - "$w/run/journal.jsonl" "$w/replan-staged.txt" "$w/replan-plain.txt" <<'PY' || fail "plan check failed"
import json, math, sys
slowest = max(json.loads(l)["seconds"] for l in open(sys.argv[1]) if '"stage_data"' in l)
staged, plain = open(sys.argv[2]).read(), open(sys.argv[3]).read()
line = "node-local staging of the shards: %.3g s per job, counted as %d s" % (slowest, math.ceil(slowest))
assert line in staged, (line, staged)
assert "node-local staging" not in plain, plain
def best(text):  # chunks and wall time (s) of the chosen shape
    row = next(l.split() for l in text.splitlines() if l.startswith("*"))
    h, m, s = map(int, row[9].split(":"))
    return int(row[8]), 3600 * h + 60 * m + s
(c1, w1), (c2, w2) = best(staged), best(plain)
assert c1 == c2 and w1 - w2 == c1 * math.ceil(slowest), ("staging not in the per-job overhead", c1, w1, c2, w2)
print(f"plan ok: {c1} chunk(s), wall time +{w1 - w2} s for staging {slowest:.3f} s per job")
PY

note "a source shard that no longer matches its index: the job stops with the file named"
cp -r "$w/shards" "$w/shards-bad"
bad=$(ls "$w/shards-bad"/all-*-of-*.h5 | head -n 1)
/usr/bin/python3 - "$bad" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(2000); b = f.read(1); f.seek(2000); f.write(bytes([b[0] ^ 0xFF]))
PY
write_stage "$w/stage-bad.ini" "$w/shards-bad"
plan "$w/bad" "$w/stage-bad.ini"
"$SDN_BIN" submit "$w/bad"
if follow "$w/bad" 180; then fail "a run from a damaged source completed"; fi
no_jobs_left "$w/bad"
grep -q "shard $bad does not match its index" "$w"/bad/logs/*.out || fail "the job log does not name the damaged shard"
grep -q "sdn pack" "$w"/bad/logs/*.out || fail "the error does not say how to fix it"
[[ $(journal_count "$w/bad" chunk_start) == 1 ]] || fail "a staging failure was retried"
[[ $(journal_count "$w/bad" stage_data) == 0 ]] || fail "a failed staging was journaled as done"
"$SDN_BIN" status "$w/bad" | tee "$w/bad-status.txt"
grep -q "state: stopped (failure)" "$w/bad-status.txt" || fail "status does not show the failure"
grep -q "why:.*shard $bad does not match its index" "$w/bad-status.txt" || fail "status does not say which shard"
echo PASS

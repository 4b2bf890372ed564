# README command 1 as a test: scripts/demo (the whole pipeline, every stage tiny, on the fixture's cluster) ends
# with a complete pipeline, a semantic stage that crossed a job boundary, every prediction directory, the plots and
# an edited image.
source "$(dirname "$0")/lib.sh"
w=$(workdir demo)
rc=0
SDN_DEMO_DIR=$w/run SDN_DEMO_CLUSTER=$SDN_TEST_CLUSTER bash "$SDN_SOURCE_DIR/scripts/demo" > "$w/demo.log" 2>&1 || rc=$?
tail -n 40 "$w/demo.log"
(( rc == 0 )) || fail "scripts/demo exited $rc (log: $w/demo.log)"
p=$w/run/pipeline
"$SDN_BIN" pipeline status "$p" | tee "$w/status.txt"
grep -q "^pipeline: complete" "$w/status.txt" || fail "the pipeline is not complete"
chunks=$(journal_count "$p/semantic" chunk_start)
(( chunks >= 2 )) || fail "the semantic stage ran in $chunks job(s); the demo must cross a job boundary"
for d in semantic/predict maskrcnn/predict derender_full/predict textural/predict; do
  [[ -n "$(find "$p/$d" -name '*.png' -print -quit)" ]] || fail "no predictions in $p/$d"
done
for f in loss.svg loss.png timeline.svg timeline.png; do [[ -s "$p/plots/$f" ]] || fail "no plot $p/plots/$f"; done
[[ -n "$(find "$w/run/edit" -name '*.png' -print -quit)" ]] || fail "the demo wrote no edited image"
grep -o "Demo took .*s\." "$w/demo.log"
echo PASS

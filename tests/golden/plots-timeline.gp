# Jobs per stage, drawn from the journal by `sdn status --plot`.
# Rerun here with `gnuplot timeline.gp` (writes timeline.svg and timeline.png).
do for [fmt in "svg png"] {
  if (fmt eq "svg") {
    set terminal svg size 960,360 font "Sans,12" noenhanced background rgb "white"
  } else {
    if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
      set terminal pngcairo size 960,360 font "Sans,10" noenhanced background rgb "white"
    } else {
      set terminal png size 960,360 noenhanced
    }
  }
  set output "timeline." . fmt
  set title "Jobs per stage: one bar per job, from its start to its end"
  set yrange [-0.7:2.7]
  set ytics nomirror ("semantic\n(4 jobs)" 2, "textural\n(2 jobs)" 1, "maskrcnn\n(1 job)" 0)
  set xrange [-88.2:3028.2]
  set xtics nomirror ("13:00\n12-01" -60, "13:10" 540, "13:20" 1140, "13:30" 1740, "13:40" 2340, "13:50" 2940)
  set grid xtics lc rgb "#e0e0e0"
  set xlabel "local time (UTC+01:00); first job started 2025-12-01 13:01:00"
  set key outside below center horizontal Left reverse
  set arrow 1 from 2940, graph 0 to 2940, graph 1 nohead dt 3 lc rgb "#444444"
  plot "timeline.dat" using (($1+$2)/2):3:(($2-$1)/2):(0.3):4 with boxxyerror fs solid 1.0 border lc rgb "#333333" fc rgb variable notitle, \
       "" using (($1+$2)/2):($3+0.42):6 with labels font ",9" notitle, \
       keyentry with boxes fs solid 1.0 border lc rgb "#333333" fc rgb "#1f77b4" title "continue (checkpointed)", \
       keyentry with boxes fs solid 1.0 border lc rgb "#333333" fc rgb "#2ca02c" title "done", \
       keyentry with boxes fs solid 1.0 border lc rgb "#333333" fc rgb "#d62728" title "stop", \
       keyentry with boxes fs solid 1.0 border lc rgb "#333333" fc rgb "#ff7f0e" title "lost (no end recorded)", \
       keyentry with boxes fs solid 1.0 border lc rgb "#333333" fc rgb "#9a9a9a" title "running", \
       keyentry with lines dt 3 lc rgb "#444444" title "now (13:50:00)"
  unset output
}

# Training loss per stage, drawn from the journal and logs/metrics.tsv by `sdn status --plot`.
# Rerun here with `gnuplot loss.gp` (writes loss.svg and loss.png).
set datafile missing NaN
set linetype 1 lc rgb "#1f77b4" lw 1.5 dt solid
set linetype 2 lc rgb "#ff7f0e" lw 1.5 dt solid
set linetype 3 lc rgb "#2ca02c" lw 1.5 dt solid
set linetype 4 lc rgb "#d62728" lw 1.5 dt solid
set linetype 5 lc rgb "#9467bd" lw 1.5 dt solid
set linetype 6 lc rgb "#8c564b" lw 1.5 dt solid
set linetype 7 lc rgb "#e377c2" lw 1.5 dt solid
set linetype 8 lc rgb "#7f7f7f" lw 1.5 dt solid
set linetype 9 lc rgb "#bcbd22" lw 1.5 dt solid
set linetype 10 lc rgb "#17becf" lw 1.5 dt solid
set linetype cycle 10
do for [fmt in "svg png"] {
  if (fmt eq "svg") {
    set terminal svg size 960,980 font "Sans,12" noenhanced background rgb "white"
  } else {
    if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
      set terminal pngcairo size 960,980 font "Sans,10" noenhanced background rgb "white"
    } else {
      set terminal png size 960,980 noenhanced
    }
  }
  set output "loss." . fmt
  set multiplot layout 3,1 title "Training loss per stage (log scale; dashed: a job starts from its checkpoint)"
  set xlabel "step"
  set ylabel "loss"
  set format x "%g"
  set grid xtics ytics mytics lc rgb "#e5e5e5" lw 1, lc rgb "#f2f2f2" lw 1
  set lmargin 10
  set rmargin 33
  set key outside right top vertical Left reverse
  # stage 1: semantic
  unset arrow
  unset label
  unset logscale
  unset y2tics
  unset y2label
  set title "semantic: logs/metrics.tsv"
  set logscale y 10
  set yrange [0.15:3]
  set ytics ("0.2" 0.2, "0.3" 0.3, "0.5" 0.5, "0.7" 0.7, "1" 1, "2" 2, "3" 3)
  set ytics add ("" 0.4 1, "" 0.6 1, "" 0.8 1, "" 0.9 1)
  set ytics nomirror
  set y2tics
  set y2range [*:*]
  set y2label "other terms (linear)"
  set xrange [0:60]
  set arrow 1 from 0, graph 0 to 0, graph 1 nohead dt 2 lc rgb "#666666"
  set label 1 "job 101" at 0, graph 0.97 right rotate by 90 offset 1,0 tc rgb "#444444" font ",9"
  set arrow 2 from 20, graph 0 to 20, graph 1 nohead dt 2 lc rgb "#666666"
  set label 2 "job 101 (restart 1)" at 20, graph 0.97 right rotate by 90 offset 1,0 tc rgb "#444444" font ",9"
  set arrow 3 from 40, graph 0 to 40, graph 1 nohead dt 2 lc rgb "#666666"
  set label 3 "job 102" at 40, graph 0.97 right rotate by 90 offset 1,0 tc rgb "#444444" font ",9"
  set arrow 4 from 40, graph 0 to 40, graph 1 nohead dt 2 lc rgb "#666666"
  plot "loss-1.dat" using 1:2 with lines lt 1 title "ce", \
       "" using 1:3 with lines lt 2 title "aux", \
       "" using 1:4 axes x1y2 with lines lt 3 dt 4 title "pixel_acc (right)"
  # stage 2: textural
  unset arrow
  unset label
  unset logscale
  unset y2tics
  unset y2label
  set title "textural: journal progress events"
  set logscale y 10
  set yrange [1.5:15]
  set ytics ("2" 2, "3" 3, "5" 5, "7" 7, "10" 10)
  set ytics add ("" 4 1, "" 6 1, "" 8 1, "" 9 1)
  set ytics mirror
  set xrange [0:300]
  set arrow 1 from 0, graph 0 to 0, graph 1 nohead dt 2 lc rgb "#666666"
  set label 1 "job 201" at 0, graph 0.97 right rotate by 90 offset 1,0 tc rgb "#444444" font ",9"
  set arrow 2 from 200, graph 0 to 200, graph 1 nohead dt 2 lc rgb "#666666"
  set label 2 "job 202" at 200, graph 0.97 right rotate by 90 offset 1,0 tc rgb "#444444" font ",9"
  plot "loss-2.dat" using 1:2 with lines lt 1 title "loss"
  # stage 3: maskrcnn
  unset arrow
  unset label
  unset logscale
  unset y2tics
  unset y2label
  set title "maskrcnn: no loss recorded yet"
  set logscale y 10
  set yrange [0.1:10]
  set ytics ("0.1" 0.1, "0.2" 0.2, "0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10)
  set ytics add ("" 0.3 1, "" 0.4 1, "" 0.6 1, "" 0.7 1, "" 0.8 1, "" 0.9 1, "" 3 1, "" 4 1, "" 6 1, "" 7 1, "" 8 1, "" 9 1)
  set xrange [0:1]
  set label 1 "no loss recorded yet" at graph 0.5, graph 0.5 center
  plot NaN notitle
  unset multiplot
  unset output
}

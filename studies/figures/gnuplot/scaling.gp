# scaling.gp: time per step and resident memory vs n, log-log, one line per series (loaded by
# the generated NAME.gp). DATA rows: series, n, step_ms, bytes, by series and n.
PANELS = 2
KEYTITLE = '(slopes of log time, log memory in log n)'
array EXTRA[1] = ['']
load STYLE_DIR.'/trikv.gp'
# n with a margin (no marker on the frame), at least a factor 4 wide: a power of 2 to label.
stats DATA using (column('n')) nooutput
NLO = min(STATS_min / 1.2, sqrt(STATS_min * STATS_max) / 2); NHI = max(STATS_max * 1.2, sqrt(STATS_min * STATS_max) * 2)

series(i) = column('series') == i ? column('n') : NaN
array QUANTITY[2] = ['step_ms', 'bytes']
array QUANTITY_LABEL[2] = [TIME_LABEL, MEMORY_LABEL]
do for [p = 1:2] {
    eval panel(p - 1)
    set logscale x 2; set xrange [NLO:NHI]; set logscale y
    set format x '%g'; set format y (p == 1 ? '%g' : BYTESFORMAT)
    set xlabel N_LABEL noenhanced; set ylabel QUANTITY_LABEL[p] noenhanced
    plot for [i = 1:|LABEL|] DATA using (series(i)):(column(QUANTITY[p])) \
         with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i])
}

eval KEYPANEL
plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title LABEL[i]
unset multiplot

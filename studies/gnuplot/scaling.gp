# scaling.gp: time per step and resident memory vs n, log-log, one line per series (loaded by
# the generated NAME.gp). DATA rows: series, n, step_ms, bytes, by series and n.
PANELS = 2
array EXTRA[1] = ['']
load STYLE_DIR.'/trikv.gp'

series(i) = column('series') == i ? column('n') : NaN
array QUANTITY[2] = ['step_ms', 'bytes']
array QUANTITY_LABEL[2] = [TIME_LABEL, MEMORY_LABEL]
do for [p = 1:2] {
    eval panel(p - 1)
    set logscale x 2; set offsets graph 0.04, graph 0.04, 0, 0   # no marker on the frame; set logscale y
    set format x '%g'; set format y (p == 1 ? '%g' : BYTESFORMAT)
    set xlabel N_LABEL noenhanced; set ylabel QUANTITY_LABEL[p] noenhanced
    plot for [i = 1:|LABEL|] DATA using (series(i)):(column(QUANTITY[p])) \
         with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i])
}

eval KEYPANEL
plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title LABEL[i]
unset multiplot

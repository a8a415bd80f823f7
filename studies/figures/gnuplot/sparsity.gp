# sparsity.gp: time per step and resident memory vs the non-zeros s per key/value row, log-log,
# at one n (loaded by the generated NAME.gp). DATA rows: kind = point, or reference (a dense
# cache, DENSE[i] = 1: its memory is the same at every s; drawn as a flat dashed line at that
# memory and its median time, its points faded); series, s, step_ms, bytes.
PANELS = 2
KEYTITLE = '(slopes of log time, log memory in log s)'
array EXTRA[1] = ['']
load STYLE_DIR.'/trikv.gp'
do for [i = 1:|LABEL|] { if (DENSE[i]) { DASH[i] = 2 } }   # the key shows the dashed reference

stats DATA using (column('s')) nooutput
SLO = STATS_min / 1.3; SHI = STATS_max * 1.3
is(kind, i) = strcol('kind') eq kind && column('series') == i
array QUANTITY[2] = ['step_ms', 'bytes']
array QUANTITY_LABEL[2] = [TIME_LABEL, MEMORY_LABEL]
do for [p = 1:2] {
    eval panel(p - 1)
    set logscale xy 2; set logscale y 10
    set xrange [SLO:SHI]
    set format x '%g'; set format y (p == 1 ? '%g' : BYTESFORMAT)
    set xlabel S_LABEL noenhanced; set ylabel QUANTITY_LABEL[p] noenhanced
    plot for [i = 1:|LABEL|] DATA using (is('point', i) && !DENSE[i] ? column('s') : NaN):(column(QUANTITY[p])) \
             with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]), \
         for [i = 1:|LABEL|] DATA using (is('point', i) && DENSE[i] ? column('s') : NaN):(column(QUANTITY[p])) \
             with points pt POINT[i] lc rgb rgb(fade(COLOUR[i])), \
         for [i = 1:|LABEL|] DATA using (is('reference', i) ? SLO : NaN):(column(QUANTITY[p])):(SHI - SLO):(0) \
             with vectors nohead dt 2 lw 1.2 lc rgb rgb(COLOUR[i])
}

eval KEYPANEL
plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title LABEL[i]
unset multiplot

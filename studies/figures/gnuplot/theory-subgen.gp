# theory-subgen.gp: SubGen's error in the units of its guarantee, ‖o − o*‖ / (‖softmax‖₂·‖V1⊘V2‖_op),
# vs its value budget, log-log, one line per series, a panel per data (PANEL_TITLE) (loaded by
# the generated NAME.gp). DATA rows: panel, series, values, subgen_normalised_error. The
# O(1/√values) line passes through the geometric mean of all errors at the smallest budget.
PANELS = |PANEL_TITLE|
array EXTRA[1] = [fmt eq 'tex' ? 'reference $O(1/\sqrt{\mathrm{values}})$' : 'reference O(1/√values)']
load STYLE_DIR.'/trikv.gp'
stats DATA using (column('values')) nooutput
VMIN = STATS_min; VLO = STATS_min / 1.4; VHI = STATS_max * 1.4
stats DATA using (column('values') == VMIN ? log(column('subgen_normalised_error')) : NaN) nooutput
ANCHOR = exp(STATS_mean)

stats DATA using (column('subgen_normalised_error')) nooutput
YLO = min(STATS_min, ANCHOR * sqrt(VMIN / VHI)) / 2; YHI = max(STATS_max, ANCHOR) * 2
series(k, i) = column('panel') == k && column('series') == i ? column('values') : NaN
do for [k = 1:PANELS] {
    eval panel(k - 1)
    set logscale x 2; set logscale y
    set xrange [VLO:VHI]; set yrange [YLO:YHI]
    set format x '%g'; set format y '%g'
    set xlabel 'value samples per stream (values)' noenhanced
    set ylabel T('‖o − o*‖ / (‖softmax‖₂·‖V1⊘V2‖_op)', '$\|o-o^*\|/(\|\mathrm{softmax}\|_2\|V_1\oslash V_2\|_{op})$') noenhanced
    set title PANEL_TITLE[k] noenhanced offset 0, -0.6
    plot ANCHOR * sqrt(VMIN / x) with lines dt 2 lw 1 lc rgb rgb(BOUNDGREY), \
         for [i = 1:|LABEL|] DATA using (series(k, i)):(column('subgen_normalised_error')) \
             with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i])
    unset title
}

eval KEYPANEL
plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title LABEL[i], \
     keyentry with lines dt 2 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[1]
unset multiplot

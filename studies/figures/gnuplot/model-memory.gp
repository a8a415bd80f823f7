# model-memory.gp: a model's held-out metric under each cache minus the training path's (the
# paired difference over the same held-out sequences, with its 95% interval) against the caches'
# resident bytes, one series per cache family (loaded by the NAME.gp python/trikv/model/figures.py
# writes). DATA rows: series (1-based), bytes, difference, difference_ci_low, difference_ci_high,
# each series' by bytes. X_LABEL, Y_LABEL; EXACT_LABEL names the zero line: the training path's
# own metric and interval.
PANELS = 1
array EXTRA[1] = [EXACT_LABEL]
load STYLE_DIR.'/trikv.gp'

stats DATA using (column('bytes')) nooutput
XLO = STATS_min / 2; XHI = STATS_max * 2
stats DATA using (column('difference_ci_low')):(column('difference_ci_high')) nooutput
YLO = min(0, STATS_min_x); YHI = max(0, STATS_max_y)
SPREAD = YHI > YLO ? YHI - YLO : 1
eval panel(0)
set logscale x 2; set xrange [XLO:XHI]; set yrange [YLO - 0.05 * SPREAD:YHI + 0.05 * SPREAD]
set format x BYTESFORMAT; set format y '%g'
set xlabel X_LABEL noenhanced; set ylabel Y_LABEL noenhanced
series(i) = column('series') == i ? column('bytes') : NaN
plot 0 with lines lw 1 lc rgb rgb(GREY) notitle, \
     for [i = 1:|LABEL|] DATA using (series(i)):(column('difference')):(column('difference_ci_low')):(column('difference_ci_high')) \
         with yerrorlines pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) notitle

eval KEYPANEL
plot NaN notitle, keyentry with lines lw 1 lc rgb rgb(GREY) title EXACT_LABEL, \
     for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title LABEL[i]
unset multiplot

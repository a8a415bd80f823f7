# error-n.gp: relative error of the approximate caches vs n, log-log, one line per series
# (loaded by the generated NAME.gp; the same DATA as error.gp, exact caches left out).
PANELS = 1
load STYLE_DIR.'/error-axes.gp'
array EXTRA[1] = [FLOORED ? FLOOR_LABEL : '']
load STYLE_DIR.'/trikv.gp'
# n with a margin (no marker on the frame), at least a factor 4 wide: a power of 2 to label.
stats DATA using (column('n')) nooutput
NLO = min(STATS_min / 1.2, sqrt(STATS_min * STATS_max) / 2); NHI = max(STATS_max * 1.2, sqrt(STATS_min * STATS_max) * 2)
eval ERROR_AXIS

set logscale x 2; set xrange [NLO:NHI]
set format x '%g'
set xlabel N_LABEL noenhanced
plot for [i = 1:|LABEL|] DATA using (column('series') == i ? column('n') : NaN):(plotted_error(column('rel_l2_error'))) \
     with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i])

eval KEYPANEL
plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title LABEL[i], \
     keyentry with lines dt 3 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[1]
unset multiplot

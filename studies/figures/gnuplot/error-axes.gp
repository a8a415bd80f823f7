# error-axes.gp: what error.gp and error-n.gp share, loaded by them before the style. From DATA:
# FLOOR (a quarter of the smallest error: zero errors are drawn there, as plotted_error(e)
# gives them), FLOORED (an error below it: a dotted line there, FLOOR_LABEL in the key) and
# HAS_EXACT (exact caches, drawn grey); `eval ERROR_AXIS`, once the style is loaded, sets the
# panel and its log error axis.
set datafile separator comma
stats DATA using (column('rel_l2_error') > 0 ? column('rel_l2_error') : NaN) nooutput
FLOOR = STATS_min / 4
plotted_error(e) = e > FLOOR ? e : FLOOR
stats DATA using (column('rel_l2_error') < FLOOR):(column('series') == 0) nooutput
FLOORED = STATS_max_x > 0; HAS_EXACT = STATS_max_y > 0
FLOOR_LABEL = sprintf('error 0 (drawn at %.2g)', FLOOR)
ERROR_LABEL = fmt eq 'tex' ? 'relative error $\|o-o^*\|/\|o^*\|$' : 'relative error ‖o − o*‖ / ‖o*‖'
ERROR_AXIS = "eval panel(0); set logscale xy; set offsets 0, 0, graph 0.06, graph 0.06; " . \
  "set format y '%g'; set ylabel ERROR_LABEL noenhanced; " . \
  (FLOORED ? "set arrow 1 from graph 0, first FLOOR to graph 1, first FLOOR nohead dt 3 lw 1 lc rgb rgb(BOUNDGREY)" : "")

# error-axes.gp: the error axis shared by error.gp and error-n.gp (loaded by them): a log scale
# with a dotted line at FLOOR, where zero errors are drawn, when there are any.
eval panel(0)
set logscale xy
set offsets 0, 0, graph 0.06, graph 0.06   # no marker on the frame
set format y '%g'
set ylabel T('relative error ‖o − o*‖ / ‖o*‖', 'relative error $\|o-o^*\|/\|o^*\|$') noenhanced
if (FLOORED) { set arrow 1 from graph 0, first FLOOR to graph 1, first FLOOR nohead dt 3 lw 1 lc rgb rgb(BOUNDGREY) }

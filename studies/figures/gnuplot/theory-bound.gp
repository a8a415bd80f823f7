# theory-bound.gp: poly's relative error vs the score magnitude B, log-log, a panel per data
# (PANEL_TITLE) (loaded by the generated NAME.gp, which sets DEGREE and NS). DATA rows: panel,
# degree, n, n_rank (1.. in NS), score_bound (B), rel_l2_error. Beside each degree p, dashed in its colour, the Taylor remainder
# e^B·B^(p+1)/(p+1)!: the worst error of one pair's weight (docs/theory.md).
PANELS = |PANEL_TITLE|
array EXTRA[|DEGREE| + |NS|]
do for [i = 1:|DEGREE|] {
    p = int(DEGREE[i])
    EXTRA[i] = fmt eq 'tex' ? sprintf('degree %d bound $e^B B^{%d}/%d!$', p, p + 1, p + 1) \
                            : sprintf('degree %d bound e^B·B^%d/%d!', p, p + 1, p + 1)
}
do for [k = 1:|NS|] { EXTRA[|DEGREE| + k] = sprintf('n = %d', int(NS[k])) }
load STYLE_DIR.'/trikv.gp'

array SHAPE[6] = [7, 5, 9, 11, 13, 15]   # filled: circle, square, triangles, diamond, pentagon
shape(rank) = SHAPE[(int(rank) - 1) % |SHAPE| + 1]
bound(B, p) = exp(B) * B**(p + 1) / gamma(p + 2)
stats DATA using (column('score_bound')):(column('rel_l2_error')) nooutput
BLO = STATS_min_x / 1.5; BHI = STATS_max_x * 1.5
YLO = STATS_min_y / 4; YHI = max(10, STATS_max_y * 4)

point(k, i) = column('panel') == k && column('degree') == DEGREE[i] ? column('score_bound') : NaN
do for [k = 1:PANELS] {
    eval panel(k - 1)
    set logscale xy
    set xrange [BLO:BHI]; set yrange [YLO:YHI]
    set format x '%g'; set format y '%g'
    set xlabel T('largest score magnitude B = max |s|', 'largest score magnitude $B = \max|s|$') noenhanced
    set ylabel T('relative error ‖o − o*‖ / ‖o*‖', 'relative error $\|o-o^*\|/\|o^*\|$') noenhanced
    set title PANEL_TITLE[k] noenhanced offset 0, -0.6
    set samples 200
    plot for [i = 1:|DEGREE|] bound(x, DEGREE[i]) with lines dt 2 lw 1.2 lc rgb rgb(COLOUR[i]), \
         for [i = 1:|DEGREE|] DATA using (point(k, i)):(column('rel_l2_error')):(shape(column('n_rank'))) \
             with points pt variable lc rgb rgb(COLOUR[i])
    unset title
}

eval KEYPANEL
plot NaN notitle, \
     for [i = 1:|DEGREE|] keyentry with points pt 7 lc rgb rgb(COLOUR[i]) title LABEL[i], \
     for [i = 1:|DEGREE|] keyentry with lines dt 2 lw 1.2 lc rgb rgb(COLOUR[i]) title EXTRA[i], \
     for [k = 1:|NS|] keyentry with points pt shape(k) lc rgb rgb(GREY) title EXTRA[|DEGREE| + k]
unset multiplot

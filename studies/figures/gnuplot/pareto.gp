# pareto.gp: time per step vs resident cache memory, log-log (loaded by the generated NAME.gp).
# DATA rows: class 0 on the exact front of its group (the group's points come first, by memory,
# so that each front is one line), 1 a dominated exact point, 2 approximate, 3 the matrix
# baseline. The seed paper's memory bounds for each row's n, d, heads: 4nd·h and 2n²d·h floats.
PANELS = 1
set datafile separator comma
stats DATA using (column('heads')) nooutput
HEADS_TERM = STATS_min == 1 && STATS_max == 1 ? '' : 'h'   # the bounds name heads where there are several
array EXTRA[4] = [NGROUPS > 0 ? 'exact Pareto front'.(NGROUPS > 1 ? ' (one per n, d, heads, data)' : '') : '', \
                  HAS_DOMINATED ? 'dominated exact point (faded)' : '', \
                  fmt eq 'tex' ? 'seed bound $\Omega(nd)$: $4nd'.HEADS_TERM.'\cdot4$\,B' : 'seed bound Ω(nd): 4nd'.HEADS_TERM.'·4 B', \
                  fmt eq 'tex' ? 'seed bound $\Omega(n^2d)$: $2n^2d'.HEADS_TERM.'\cdot4$\,B' : 'seed bound Ω(n²d): 2n²d'.HEADS_TERM.'·4 B']
load STYLE_DIR.'/trikv.gp'

# Bytes of 4·n·d·h and 2·n²·d·h float32 scalars, as macros (@BOUND_ND) of a row's columns.
BOUND_ND = "(16.0 * column('n') * column('d') * column('heads'))"
BOUND_N2D = "(8.0 * column('n') * column('n') * column('d') * column('heads'))"
stats DATA using (column('bytes')):(column('step_ms')) nooutput
XLO = STATS_min_x; XHI = STATS_max_x; YLO = STATS_min_y / 1.6; YHI = STATS_max_y * 1.6
stats DATA using @BOUND_ND:@BOUND_N2D nooutput
XLO = min(XLO, STATS_min_x) / 1.6; XHI = max(XHI, STATS_max_y) * 1.6

eval panel(0)
set logscale xy
set xrange [XLO:XHI]; set yrange [YLO:YHI]
set format x BYTESFORMAT; set format y '%g'
set xlabel MEMORY_LABEL noenhanced; set ylabel TIME_LABEL noenhanced
point(faded, i) = (column('class') == 1) == faded && column('series') == i ? column('bytes') : NaN
plot DATA using @BOUND_ND:(YLO):(0):(YHI - YLO) with vectors nohead dt 2 lw 1 lc rgb rgb(BOUNDGREY), \
     DATA using @BOUND_N2D:(YLO):(0):(YHI - YLO) with vectors nohead dt 4 lw 1 lc rgb rgb(BOUNDGREY), \
     for [g = 1:NGROUPS] DATA using (column('class') == 0 && column('group') == g ? column('bytes') : NaN):(column('step_ms')) \
         with lines lw 1.2 lc rgb rgb(GREY), \
     for [i = 1:|LABEL|] DATA using (point(1, i)):(column('step_ms')) with points pt POINT[i] lc rgb rgb(fade(COLOUR[i])), \
     for [i = 1:|LABEL|] DATA using (point(0, i)):(column('step_ms')) with points pt POINT[i] lc rgb rgb(COLOUR[i]), \
     DATA using (column('bytes')):(column('step_ms')):(strcol('n_label')) with labels left offset char 0.4, 0.4 \
         font KEYFONTSPEC textcolor rgb rgb(GREY)

eval KEYPANEL
plot NaN notitle, \
     for [i = 1:|LABEL|] keyentry with points pt POINT[i] lc rgb rgb(COLOUR[i]) title LABEL[i], \
     keyentry with lines lw 1.2 lc rgb rgb(GREY) title EXTRA[1], \
     keyentry with points pt 7 lc rgb rgb(CONTEXTGREY) title EXTRA[2], \
     keyentry with lines dt 2 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[3], \
     keyentry with lines dt 4 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[4]
unset multiplot

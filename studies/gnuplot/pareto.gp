# pareto.gp: time per step vs resident cache memory, log-log (loaded by the generated NAME.gp).
# DATA rows: kind = point (class 0 on the exact front of its group, 1 a dominated exact point,
# 2 approximate, 3 the matrix baseline) or bound_nd / bound_n2d (the seed paper's memory bounds);
# the exact front's points come first, by group and memory, so that each front is one line.
PANELS = 1
array EXTRA[4] = [HAS_FRONT ? 'exact Pareto front'.FRONTS_OF : '', HAS_DOMINATED ? 'dominated exact point (faded)' : '', \
                  fmt eq 'tex' ? 'seed bound $\Omega(nd)$: $4nd'.HEADS_TERM.'\cdot4$\,B' : 'seed bound Ω(nd): 4nd'.HEADS_TERM.'·4 B', \
                  fmt eq 'tex' ? 'seed bound $\Omega(n^2d)$: $2n^2d'.HEADS_TERM.'\cdot4$\,B' : 'seed bound Ω(n²d): 2n²d'.HEADS_TERM.'·4 B']
load STYLE_DIR.'/trikv.gp'

is(kind) = strcol('kind') eq kind
stats DATA using (column('bytes')) nooutput
XLO = STATS_min / 1.6; XHI = STATS_max * 1.6
stats DATA using (is('point') ? column('step_ms') : NaN) nooutput
YLO = STATS_min / 1.6; YHI = STATS_max * 1.6

eval panel(0)
set logscale xy
set xrange [XLO:XHI]; set yrange [YLO:YHI]
set format x BYTESFORMAT; set format y '%g'
set xlabel MEMORY_LABEL noenhanced; set ylabel TIME_LABEL noenhanced
point(faded, i) = is('point') && (column('class') == 1) == faded && column('series') == i ? column('bytes') : NaN
plot DATA using (is('bound_nd') ? column('bytes') : NaN):(YLO):(0):(YHI - YLO) with vectors nohead dt 2 lw 1 lc rgb rgb(BOUNDGREY), \
     DATA using (is('bound_n2d') ? column('bytes') : NaN):(YLO):(0):(YHI - YLO) with vectors nohead dt 4 lw 1 lc rgb rgb(BOUNDGREY), \
     for [g = 1:NGROUPS] DATA using (is('point') && column('class') == 0 && column('group') == g ? column('bytes') : NaN):(column('step_ms')) with lines lw 1.2 lc rgb rgb(GREY), \
     for [i = 1:|LABEL|] DATA using (point(1, i)):(column('step_ms')) with points pt POINT[i] lc rgb rgb(fade(COLOUR[i])), \
     for [i = 1:|LABEL|] DATA using (point(0, i)):(column('step_ms')) with points pt POINT[i] lc rgb rgb(COLOUR[i]), \
     DATA using (is('point') ? column('bytes') : NaN):(column('step_ms')):(strcol('n_label')) with labels left offset char 0.4, 0.4 font KEYFONTSPEC textcolor rgb rgb(GREY)

eval KEYPANEL
plot NaN notitle, \
     for [i = 1:|LABEL|] keyentry with points pt POINT[i] lc rgb rgb(COLOUR[i]) title LABEL[i], \
     keyentry with lines lw 1.2 lc rgb rgb(GREY) title EXTRA[1], \
     keyentry with points pt 7 lc rgb rgb(CONTEXTGREY) title EXTRA[2], \
     keyentry with lines dt 2 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[3], \
     keyentry with lines dt 4 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[4]
unset multiplot

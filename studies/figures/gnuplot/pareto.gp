# pareto.gp: time per step vs resident cache memory, log-log, a panel per data family (COLUMNS)
# and n (ROWS), titled PANEL_TITLE (loaded by the generated NAME.gp). DATA rows: one per series,
# data and n (the median over heads, layers and seeds; step_ms_low/high the range of their 95%
# intervals of the median, drawn as bars); panel (0: not drawn), class (0 exact, 1 a dominated
# exact point, 2 approximate, 3 the matrix baseline) and front (1 on the panel's exact front:
# those rows come first, each panel's by memory, so that each front is one line). The seed
# paper's memory bounds for each row's n, d, heads: 4nd·h and 2n²d·h floats.
PANELS = COLUMNS
if (!exists("PLOTH")) PLOTH = 2.4
PLOTH = PLOTH * (ROWS == 1 ? 1 : 0.85 * ROWS)   # rows of panels a little lower than one alone
set datafile separator comma
stats DATA using (column('heads')) nooutput
HEADS_TERM = STATS_min == 1 && STATS_max == 1 ? '' : 'h'   # the bounds name heads where there are several
stats DATA using (column('front')) nooutput
array EXTRA[4] = [STATS_max > 0 ? 'exact Pareto front of the panel' : '', \
                  HAS_DOMINATED ? 'dominated exact point (faded)' : '', \
                  fmt eq 'tex' ? 'seed bound $\Omega(nd)$: $4nd'.HEADS_TERM.'\cdot4$\,B' : 'seed bound Ω(nd): 4nd'.HEADS_TERM.'·4 B', \
                  fmt eq 'tex' ? 'seed bound $\Omega(n^2d)$: $2n^2d'.HEADS_TERM.'\cdot4$\,B' : 'seed bound Ω(n²d): 2n²d'.HEADS_TERM.'·4 B']
KEYTITLE = SPREAD_LABEL
KEYBLOCKS = 2
load STYLE_DIR.'/trikv.gp'

# Bytes of 4·n·d·h and 2·n²·d·h float32 scalars, as macros (@BOUND_ND) of a row's columns.
BOUND_ND = "(16.0 * column('n') * column('d') * column('heads'))"
BOUND_N2D = "(8.0 * column('n') * column('n') * column('d') * column('heads'))"
drawn(x) = column('panel') > 0 ? x : NaN
stats DATA using (drawn(column('bytes'))):(drawn(column('step_ms_low'))) nooutput
XLO = STATS_min_x; XHI = STATS_max_x; YLO = STATS_min_y / 1.6
stats DATA using (drawn(column('step_ms_high'))) nooutput
YHI = STATS_max * 1.6
stats DATA using (drawn(@BOUND_ND)):(drawn(@BOUND_N2D)) nooutput
XLO = min(XLO, STATS_min_x) / 1.6; XHI = max(XHI, STATS_max_y) * 1.6

# One clause per kind of point, its marker and colour from its series (pt/lc variable).
point(faded, k) = (column('class') == 1) == faded && column('panel') == k ? column('bytes') : NaN
series_colour(faded) = faded ? fade(COLOUR[int(column('series'))]) : COLOUR[int(column('series'))]
do for [k = 1:COLUMNS * ROWS] {
    eval cell((k - 1) % COLUMNS, (k - 1) / COLUMNS)
    set logscale xy
    set xrange [XLO:XHI]; set yrange [YLO:YHI]
    set format x BYTESFORMAT; set format y '%g'
    set xlabel MEMORY_LABEL noenhanced; set ylabel TIME_LABEL noenhanced
    set title PANEL_TITLE[k] noenhanced offset 0, -0.6
    in(k, x) = column('panel') == k ? x : NaN
    plot DATA using (in(k, @BOUND_ND)):(YLO):(0):(YHI - YLO) with vectors nohead dt 2 lw 1 lc rgb rgb(BOUNDGREY), \
         DATA using (in(k, @BOUND_N2D)):(YLO):(0):(YHI - YLO) with vectors nohead dt 4 lw 1 lc rgb rgb(BOUNDGREY), \
         DATA using (column('front') == 1 ? in(k, column('bytes')) : NaN):(column('step_ms')) with lines lw 1.2 lc rgb rgb(GREY), \
         DATA using (point(1, k)):(column('step_ms')):(column('step_ms_low')):(column('step_ms_high')):(POINT[int(column('series'))]):(series_colour(1)) \
             with yerrorbars pt variable lc rgb variable, \
         DATA using (point(0, k)):(column('step_ms')):(column('step_ms_low')):(column('step_ms_high')):(POINT[int(column('series'))]):(series_colour(0)) \
             with yerrorbars pt variable lc rgb variable
    unset title
}

do for [KEYBLOCK = 1:2] {
    eval keypanel(KEYBLOCK)
    plot NaN notitle, \
         for [i = 1:|LABEL|] keyentry with points pt POINT[i] lc rgb rgb(COLOUR[i]) title keyed(LABEL[i]), \
         keyentry with lines lw 1.2 lc rgb rgb(GREY) title keyed(EXTRA[1]), \
         keyentry with points pt 7 lc rgb rgb(CONTEXTGREY) title keyed(EXTRA[2]), \
         keyentry with lines dt 2 lw 1 lc rgb rgb(BOUNDGREY) title keyed(EXTRA[3]), \
         keyentry with lines dt 4 lw 1 lc rgb rgb(BOUNDGREY) title keyed(EXTRA[4])
}
unset multiplot

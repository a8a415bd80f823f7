# scaling.gp: time per step and resident memory vs n, log-log, one line per series, a row of
# panels per data family (PANEL_TITLE) (loaded by the generated NAME.gp). DATA rows: one per
# series, data and n, by series, data and n: the median over heads, layers and seeds, the band
# from step_ms_low to step_ms_high the range of their 95% intervals of the median; NVALUES the n
# measured (the tick labels).
PANELS = 2
ROWS = |PANEL_TITLE|
if (!exists("PLOTH")) PLOTH = 2.4
PLOTH = PLOTH * (ROWS == 1 ? 1 : 0.85 * ROWS)   # rows of panels a little lower than one alone
KEYTITLE = SLOPES_TITLE . (SLOPES_TITLE ne '' && SPREAD_LABEL ne '' ? '; ' : '') . SPREAD_LABEL
array EXTRA[1] = ['']
KEYBLOCKS = 2
load STYLE_DIR.'/trikv.gp'
# n with a margin (no marker on the frame).
NLO = NVALUES[1] / 1.25; NHI = NVALUES[|NVALUES|] * 1.25

series(i, r) = column('series') == i && column('panel') == r ? column('n') : NaN
stats DATA using (column('step_ms_low')):(column('step_ms_high')) nooutput
array YLO[2]; array YHI[2]
YLO[1] = STATS_min_x / 1.5; YHI[1] = STATS_max_y * 1.5
stats DATA using (column('bytes')) nooutput
YLO[2] = STATS_min / 1.5; YHI[2] = STATS_max * 1.5
array QUANTITY[2] = ['step_ms', 'bytes']
array QUANTITY_LABEL[2] = [TIME_LABEL, MEMORY_LABEL]
do for [r = 1:ROWS] {
    do for [p = 1:2] {
        eval cell(p - 1, r - 1)
        set logscale x 2; set xrange [NLO:NHI]; set logscale y; set yrange [YLO[p]:YHI[p]]
        eval NTICS
        set format y (p == 1 ? '%g' : BYTESFORMAT)
        set xlabel N_LABEL noenhanced; set ylabel QUANTITY_LABEL[p] noenhanced
        set title PANEL_TITLE[r] noenhanced offset 0, -0.6
        plot for [i = 1:(p == 1 ? |LABEL| : 0)] DATA using (series(i, r)):(column('step_ms_low')):(column('step_ms_high')) \
             with filledcurves fs transparent solid 0.12 noborder lc rgb rgb(COLOUR[i]), \
             for [i = 1:|LABEL|] DATA using (series(i, r)):(column(QUANTITY[p])) \
             with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i])
        unset title
    }
}

do for [KEYBLOCK = 1:2] {
    eval keypanel(KEYBLOCK)
    plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title keyed(LABEL[i])
}
unset multiplot

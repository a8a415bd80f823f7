# error-n.gp: the error of the approximate caches vs n, log-log, one line per series, a panel
# per data family (PANEL_TITLE) (loaded by the generated NAME.gp; exact caches are in panel 0,
# not drawn, and have no LABEL). DATA rows as error.gp's: the median over heads, layers and
# seeds, the band from error_low to error_high their range; NVALUES the n measured.
PANELS = |PANEL_TITLE|
load STYLE_DIR.'/error-axes.gp'
array EXTRA[1] = [FLOORED ? FLOOR_LABEL : '']
KEYTITLE = ERROR_WORDS . (SPREAD_LABEL ne '' ? '; ' . SPREAD_LABEL : '')
KEYTITLE_CHARS = strlen(ERROR_WORDS_PLAIN . (SPREAD_LABEL ne '' ? '; ' . SPREAD_LABEL : ''))   # as printed
KEYBLOCKS = 2
load STYLE_DIR.'/trikv.gp'
NLO = NVALUES[1] / 1.25; NHI = NVALUES[|NVALUES|] * 1.25
stats DATA using (column('panel') > 0 ? plotted_error(column('error_low')) : NaN) nooutput
YLO = STATS_min / 2
stats DATA using (column('panel') > 0 ? plotted_error(column('error_high')) : NaN) nooutput
YHI = STATS_max * 2
series(k, i) = column('panel') == k && column('series') == i ? column('n') : NaN
do for [k = 1:PANELS] {
    eval panel(k - 1)
    set logscale xy; set xrange [NLO:NHI]; set yrange [YLO:YHI]
    eval NTICS
    set format y '%g'
    set xlabel N_LABEL noenhanced; set ylabel ERROR_LABEL noenhanced
    set title PANEL_TITLE[k] noenhanced offset 0, -0.6
    if (FLOORED) { set arrow 1 from graph 0, first FLOOR to graph 1, first FLOOR nohead dt 3 lw 1 lc rgb rgb(BOUNDGREY) }
    plot for [i = 1:|LABEL|] DATA using (series(k, i)):(plotted_error(column('error_low'))):(plotted_error(column('error_high'))) \
             with filledcurves fs transparent solid 0.18 noborder lc rgb rgb(COLOUR[i]), \
         for [i = 1:|LABEL|] DATA using (series(k, i)):(plotted_error(column('error'))) \
             with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i])
    unset title; unset arrow 1
}

do for [KEYBLOCK = 1:2] {
    eval keypanel(KEYBLOCK)
    plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title keyed(LABEL[i]), \
         keyentry with lines dt 3 lw 1 lc rgb rgb(BOUNDGREY) title keyed(EXTRA[1])
}
unset multiplot

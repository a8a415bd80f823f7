# error.gp: the error of every cache vs resident cache memory, log-log, a panel per data family
# (COLUMNS) and n (ROWS), titled PANEL_TITLE: the approximate caches (open markers; class 0) with
# their front (front = 1: not beaten in both memory and error within the panel; those rows come
# first, each panel's by memory) joined, the exact caches (filled; class 1) as reference points
# (loaded by the generated NAME.gp). DATA rows: one per series, data and n; error the median
# over heads, layers and seeds, bars from error_low to error_high their range.
PANELS = COLUMNS
if (!exists("PLOTH")) PLOTH = 2.4
PLOTH = PLOTH * (ROWS == 1 ? 1 : 0.85 * ROWS)   # rows of panels a little lower than one alone
load STYLE_DIR.'/error-axes.gp'
stats DATA using (column('front')) nooutput
array EXTRA[2] = [STATS_max > 0 ? 'approximate front of the panel' : '', FLOORED ? FLOOR_LABEL : '']
KEYTITLE = ERROR_WORDS . (SPREAD_LABEL ne '' ? '; ' . SPREAD_LABEL : '')
KEYTITLE_CHARS = strlen(ERROR_WORDS_PLAIN . (SPREAD_LABEL ne '' ? '; ' . SPREAD_LABEL : ''))   # as printed
KEYBLOCKS = 2
load STYLE_DIR.'/trikv.gp'

drawn(x) = column('panel') > 0 ? x : NaN
stats DATA using (drawn(column('bytes'))):(drawn(plotted_error(column('error_low')))) nooutput
XLO = STATS_min_x / 1.6; XHI = STATS_max_x * 1.6; YLO = STATS_min_y / 2
stats DATA using (drawn(plotted_error(column('error_high')))) nooutput
YHI = STATS_max * 2
in_panel(k) = column('panel') == k ? column('bytes') : NaN
do for [k = 1:COLUMNS * ROWS] {
    eval cell((k - 1) % COLUMNS, (k - 1) / COLUMNS)
    set logscale xy
    set xrange [XLO:XHI]; set yrange [YLO:YHI]
    set format x BYTESFORMAT; set format y '%g'
    set xlabel MEMORY_LABEL noenhanced; set ylabel ERROR_LABEL noenhanced
    set title PANEL_TITLE[k] noenhanced offset 0, -0.6
    if (FLOORED) { set arrow 1 from graph 0, first FLOOR to graph 1, first FLOOR nohead dt 3 lw 1 lc rgb rgb(BOUNDGREY) }
    plot DATA using (column('front') == 1 && column('panel') == k ? column('bytes') : NaN):(plotted_error(column('error'))) \
             with lines lw 1.2 lc rgb rgb(GREY), \
         DATA using (in_panel(k)):(plotted_error(column('error'))):(plotted_error(column('error_low'))):(plotted_error(column('error_high'))):(POINT[int(column('series'))]):(COLOUR[int(column('series'))]) \
             with yerrorbars pt variable lc rgb variable   # one clause: marker and colour from the series
    unset title; unset arrow 1
}

do for [KEYBLOCK = 1:2] {
    eval keypanel(KEYBLOCK)
    plot NaN notitle, for [i = 1:|LABEL|] keyentry with points pt POINT[i] lc rgb rgb(COLOUR[i]) title keyed(LABEL[i]), \
         keyentry with lines lw 1.2 lc rgb rgb(GREY) title keyed(EXTRA[1]), \
         keyentry with lines dt 3 lw 1 lc rgb rgb(BOUNDGREY) title keyed(EXTRA[2])
}
unset multiplot

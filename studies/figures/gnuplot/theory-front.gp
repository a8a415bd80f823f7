# theory-front.gp: relative error vs resident memory, log-log, a panel per data (COLUMNS) and
# scale (ROWS), titled PANEL_TITLE (loaded by the generated NAME.gp). DATA rows: panel (1..,
# row by row), class (0 on the panel's (memory, error) Pareto front, its points first and by
# memory, so that each front is one line; 1 off it, faded), series, bytes, rel_l2_error.
PANELS = COLUMNS
array EXTRA[2] = ['Pareto front (memory, error) of the panel', 'off the front (faded)']
if (!exists("PLOTH")) PLOTH = 2.4
PLOTH = PLOTH * ROWS                     # trikv.gp's panel height, for all the rows
load STYLE_DIR.'/trikv.gp'

stats DATA using (column('bytes')):(column('rel_l2_error')) nooutput
XLO = STATS_min_x / 2; XHI = STATS_max_x * 2; YLO = STATS_min_y / 3; YHI = STATS_max_y * 3
point(faded, panel, i) = column('panel') == panel && column('class') == faded && column('series') == i ? column('bytes') : NaN
do for [k = 1:COLUMNS * ROWS] {
    column_of = (k - 1) % COLUMNS; row_of = (k - 1) / COLUMNS
    eval panel(column_of)
    set origin column_of / real(COLUMNS), (KEYH + (ROWS - 1 - row_of) * PLOTH / ROWS) / H
    set size 1.0 / COLUMNS, PLOTH / ROWS / H
    set logscale xy
    set xrange [XLO:XHI]; set yrange [YLO:YHI]
    set format x BYTESFORMAT; set format y '%g'
    set xlabel 'resident cache memory [bytes]' noenhanced
    set ylabel T('relative error ‖o − o*‖ / ‖o*‖', 'relative error $\|o-o^*\|/\|o^*\|$') noenhanced
    set title PANEL_TITLE[k] noenhanced offset 0, -0.6
    plot DATA using (column('panel') == k && column('class') == 0 ? column('bytes') : NaN):(column('rel_l2_error')) \
             with lines lw 1.2 lc rgb rgb(GREY), \
         for [i = 1:|LABEL|] DATA using (point(1, k, i)):(column('rel_l2_error')) with points pt POINT[i] lc rgb rgb(fade(COLOUR[i])), \
         for [i = 1:|LABEL|] DATA using (point(0, k, i)):(column('rel_l2_error')) with points pt POINT[i] lc rgb rgb(COLOUR[i])
    unset title
}

eval KEYPANEL
plot NaN notitle, \
     for [i = 1:|LABEL|] keyentry with points pt POINT[i] lc rgb rgb(COLOUR[i]) title LABEL[i], \
     keyentry with lines lw 1.2 lc rgb rgb(GREY) title EXTRA[1], \
     keyentry with points pt 7 lc rgb rgb(CONTEXTGREY) title EXTRA[2]
unset multiplot

# error.gp: relative error of the approximate caches vs resident cache memory, log-log, each
# point labelled with its n; exact caches faded grey for context (loaded by the generated
# NAME.gp). DATA rows: series (0 = an exact cache), n, bytes, rel_l2_error, n_label.
PANELS = 1
load STYLE_DIR.'/error-axes.gp'
array EXTRA[2] = [HAS_EXACT ? 'exact caches (grey)' : '', FLOORED ? FLOOR_LABEL : '']
load STYLE_DIR.'/trikv.gp'
eval ERROR_AXIS

set xlabel MEMORY_LABEL noenhanced
set format x BYTESFORMAT
plot DATA using (column('series') == 0 ? column('bytes') : NaN):(plotted_error(column('rel_l2_error'))) with points pt 7 lc rgb rgb(CONTEXTGREY), \
     for [i = 1:|LABEL|] DATA using (column('series') == i ? column('bytes') : NaN):(plotted_error(column('rel_l2_error'))) with points pt POINT[i] lc rgb rgb(COLOUR[i]), \
     DATA using (column('series') > 0 ? column('bytes') : NaN):(plotted_error(column('rel_l2_error'))):(strcol('n_label')) with labels left offset char 0.4, 0.4 font KEYFONTSPEC textcolor rgb rgb(GREY)

eval KEYPANEL
plot NaN notitle, for [i = 1:|LABEL|] keyentry with points pt POINT[i] lc rgb rgb(COLOUR[i]) title LABEL[i], \
     keyentry with points pt 7 lc rgb rgb(CONTEXTGREY) title EXTRA[1], \
     keyentry with lines dt 3 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[2]
unset multiplot

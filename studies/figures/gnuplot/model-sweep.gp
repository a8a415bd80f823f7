# model-sweep.gp: the trained model's held-out perplexity under each cache, against the caches'
# memory (log, bytes) and against the time of a decode step (ms), with the model's own loss and
# the exact full-square caches' as reference lines. python/trikv/model/figures.py sets, before
# loading it: DATA (sweep.csv), TITLE, SUBTITLE, MEMORY_LABEL, the ranges XLO..XHI (memory),
# TLO..THI (time), YLO..YHI (perplexity), the series (LABEL, COLOUR, POINT), SERIES (each
# data row's series), the reference lines' perplexities MODEL_PPL, SQUARE_PPL and key entries
# MODEL_KEY, SQUARE_KEY, and the datablock $LABELS of the point labels it placed: panel (0
# memory, 1 time), x, y, align (1 left, -1 right, 0 centred), text (an index into the array
# LABEL_TEXT: gnuplot's strcol would cut "w1=4,w2=16" at its comma) and, for a label away from
# its point, a leader line from x0, y0 to x1, y1.
PANELS = 2
array EXTRA[2] = [MODEL_KEY, SQUARE_KEY]
load STYLE_DIR.'/trikv.gp'
set datafile columnheaders

MODEL_DASH = 2; SQUARE_DASH = 3
# Panel p's abscissa of a row: memory, then time.
x(p) = p == 0 ? column('cache_bytes') : column('step_ms')
point(i, p) = SERIES[int(column(0)) + 1] == i ? x(p) : NaN
# A label's x in panel p if it is aligned so (a: 1 left, -1 right, 0 centred).
at(p, a) = column('panel') == p && column('align') == a ? column('x') : NaN
LABELSTYLE = "noenhanced font KEYFONTSPEC textcolor rgb rgb(GREY)"

do for [p = 0:1] {
    eval panel(p)
    set yrange [YLO:YHI]; set format y '%g'
    set ylabel 'held-out perplexity [per byte]' noenhanced
    if (p == 0) {
        set logscale x; set xrange [XLO:XHI]; set format x BYTESFORMAT
        set xlabel MEMORY_LABEL noenhanced
    } else {
        unset logscale x; set xrange [TLO:THI]; set format x '%g'
        set xlabel 'decode step of the whole model [ms]' noenhanced
    }
    plot MODEL_PPL with lines dt MODEL_DASH lw 1.2 lc rgb rgb(GREY), \
         SQUARE_PPL with lines dt SQUARE_DASH lw 1 lc rgb rgb(BOUNDGREY), \
         for [i = 1:|LABEL|] DATA using (point(i, p)):(column('perplexity')) \
             with points pt POINT[i] lc rgb rgb(COLOUR[i]), \
         $LABELS using (column('panel') == p ? column('x0') : NaN):(column('y0')):(column('x1') - column('x0')):(column('y1') - column('y0')) \
             with vectors nohead lw 0.5 lc rgb rgb(BOUNDGREY), \
         $LABELS using (at(p, 1)):(column('y')):(LABEL_TEXT[int(column('text'))]) with labels left @LABELSTYLE, \
         $LABELS using (at(p, -1)):(column('y')):(LABEL_TEXT[int(column('text'))]) with labels right @LABELSTYLE, \
         $LABELS using (at(p, 0)):(column('y')):(LABEL_TEXT[int(column('text'))]) with labels center @LABELSTYLE
}

eval KEYPANEL
plot NaN notitle, \
     for [i = 1:|LABEL|] keyentry with points pt POINT[i] lc rgb rgb(COLOUR[i]) title LABEL[i], \
     keyentry with lines dt MODEL_DASH lw 1.2 lc rgb rgb(GREY) title EXTRA[1], \
     keyentry with lines dt SQUARE_DASH lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[2]
unset multiplot

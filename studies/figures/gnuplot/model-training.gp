# model-training.gp: a model's training curve (loaded by the NAME.gp python/trikv/model/figures.py
# writes). DATA is train.py's training.csv: step, train_loss, held_out_loss and, when METRIC is
# not the loss, held_out_METRIC, drawn on a right axis. LABEL, COLOUR, POINT, DASH: one entry per
# curve, in that order (two, or three with the metric).
PANELS = 1
array EXTRA[1] = ['']
load STYLE_DIR.'/trikv.gp'

eval panel(0)
set format y '%g'
set xlabel 'step' noenhanced; set ylabel 'loss [nats per token]' noenhanced
COLUMNS = "train_loss held_out_loss held_out_".METRIC
if (|LABEL| > 2) { set ytics nomirror; set y2tics; set y2label 'held-out '.METRIC noenhanced; set border 31 }
LEFT = "for [i = 1:2] DATA using (column('step')):(column(word(COLUMNS, i))) with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) notitle"
if (|LABEL| > 2) {
    plot @LEFT, DATA using (column('step')):(column(word(COLUMNS, 3))) axes x1y2 \
         with linespoints pt POINT[3] dt DASH[3] lw 1.2 lc rgb rgb(COLOUR[3]) notitle
} else {
    plot @LEFT
}

eval KEYPANEL
plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title LABEL[i]
unset multiplot

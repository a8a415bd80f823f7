# theory-cost.gp: time per step and resident memory vs n, log-log, one line per series (loaded
# by the generated NAME.gp, which sets D and HEADS). DATA rows: series, n, step_ms, bytes.
# Memory: the seed paper's bounds Ω(nd) and Ω(n²d) as 4·n·d·h and 2·n²·d·h float32 (as the
# pareto figure draws them). Time: lines of slope n·d and n²·d through the geometric mean of
# the times at the smallest n, against which a constant-cost cache lies flat.
PANELS = 2
TEX = (fmt eq 'tex')
array EXTRA[4] = [TEX ? 'time $\propto nd$ (slope 1)' : 'time ∝ nd (slope 1)', \
                  TEX ? 'time $\propto n^2d$ (slope 2)' : 'time ∝ n²d (slope 2)', \
                  TEX ? 'seed bound $\Omega(nd)$: $4nd\cdot4$\,B' : 'seed bound Ω(nd): 4nd·4 B', \
                  TEX ? 'seed bound $\Omega(n^2d)$: $2n^2d\cdot4$\,B' : 'seed bound Ω(n²d): 2n²d·4 B']
load STYLE_DIR.'/trikv.gp'
stats DATA using (column('n')) nooutput
NMIN = STATS_min
NLO = min(STATS_min / 1.2, sqrt(STATS_min * STATS_max) / 2); NHI = max(STATS_max * 1.2, sqrt(STATS_min * STATS_max) * 2)
stats DATA using (column('n') == NMIN ? log(column('step_ms')) : NaN) nooutput
TANCHOR = exp(STATS_mean)

series(i) = column('series') == i ? column('n') : NaN
array QUANTITY[2] = ['step_ms', 'bytes']
array QUANTITY_LABEL[2] = ['time per decode step [ms]', 'resident cache memory [bytes]']
do for [p = 1:2] {
    eval panel(p - 1)
    set logscale x 2; set xrange [NLO:NHI]; set logscale y
    set format x '%g'; set format y (p == 1 ? '%g' : BYTESFORMAT)
    set xlabel 'context length n [tokens]' noenhanced; set ylabel QUANTITY_LABEL[p] noenhanced
    if (p == 1) {
        plot TANCHOR * x / NMIN with lines dt 3 lw 1 lc rgb rgb(BOUNDGREY), \
             TANCHOR * (x / NMIN)**2 with lines dt 5 lw 1 lc rgb rgb(BOUNDGREY), \
             for [i = 1:|LABEL|] DATA using (series(i)):(column(QUANTITY[p])) \
                 with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i])
    } else {
        plot 16.0 * x * D * HEADS with lines dt 2 lw 1 lc rgb rgb(BOUNDGREY), \
             8.0 * x * x * D * HEADS with lines dt 4 lw 1 lc rgb rgb(BOUNDGREY), \
             for [i = 1:|LABEL|] DATA using (series(i)):(column(QUANTITY[p])) \
                 with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i])
    }
}

eval KEYPANEL
plot NaN notitle, for [i = 1:|LABEL|] keyentry with linespoints pt POINT[i] dt DASH[i] lw 1.2 lc rgb rgb(COLOUR[i]) title LABEL[i], \
     keyentry with lines dt 3 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[1], \
     keyentry with lines dt 5 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[2], \
     keyentry with lines dt 2 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[3], \
     keyentry with lines dt 4 lw 1 lc rgb rgb(BOUNDGREY) title EXTRA[4]
unset multiplot

"""The model's figures (gnuplot): the training curve and the cache sweep (docs/model.md)."""
import subprocess

SWEEP = r"""
set datafile separator ','
set terminal {terminal}
set output '{output}'
set multiplot layout 1,2 title "{title}" font ',9'
set key top right font ',7'
set grid
set ylabel 'held-out perplexity (bytes)'
families = "{families}"
exact = {exact}
do for [panel = 1:2] {{
  if (panel == 1) {{ set xlabel 'tensor-attention cache memory after {tokens} tokens [bytes]'; set logscale x; col = 7 }}
  else {{ set xlabel 'decode step of the whole model [ms]'; unset logscale x; col = 6 }}
  plot for [i = 1:words(families)] '{csv}' skip 1 \
         using (strcol(2) eq word(families, i) ? column(col) : NaN):5 with points pt (i + 5) ps 1.2 title word(families, i), \
       exact with lines dt 2 lc rgb 'black' title 'the model (exact window)'
}}
unset multiplot
"""


def draw_sweep(stem, rows, tokens, exact_perplexity):
    """stem.png and stem.pdf from stem.csv (sweep.py's rows)."""
    families = list(dict.fromkeys(r["family"] for r in rows))
    _draw(SWEEP, stem, families=" ".join(families), exact=exact_perplexity, tokens=tokens,
          title="trikv caches inside a trained 2-simplicial byte-level LM (KJV held-out text)")


TRAINING = r"""
set datafile separator ','
set terminal {terminal}
set output '{output}'
set title "{title}"
set xlabel 'step'
set ylabel 'loss [nats/byte]'
set grid
set key top right
plot '{csv}' skip 1 using 1:2 with linespoints pt 7 title 'training batch', \
     '{csv}' skip 1 using 1:3 with linespoints pt 5 title 'held-out'
"""


def draw_training(stem):
    """stem.png and stem.pdf from stem.csv (train.py's loss curve)."""
    _draw(TRAINING, stem, title="training the 2-simplicial byte-level LM on the KJV Bible")


def _draw(template, stem, **fields):
    for terminal, ext in (("pngcairo noenhanced size 1600,700 font ',11'", "png"),
                          ("pdfcairo noenhanced size 9in,3.9in font ',8'", "pdf")):
        script = template.format(terminal=terminal, output=f"{stem}.{ext}", csv=f"{stem}.csv", **fields)
        subprocess.run(["gnuplot"], input=script, text=True, check=True)

"""The model's figures (gnuplot): the training curve, and a model's metric against its caches'
resident memory with 95% intervals (docs/model.md)."""
import subprocess

from .._core import _series_style

MEMORY = r"""
set datafile separator ','
set terminal {terminal}
set output '{output}'
set title "{title}" noenhanced
set logscale x 2
set format x '%.0s%cB'
set xlabel "resident bytes of one sequence's 2-simplicial caches (all layers) after {tokens} tokens" noenhanced
set ylabel "held-out {metric}: cache − training path (paired 95% interval)" noenhanced
set grid
set key outside right top noenhanced
set xrange [{xlo}:{xhi}]
set yrange [{ylo}:{yhi}]
{blocks}
plot 0 with lines lc rgb '#888888' title "training path (exact): {metric} {exact}", {series}
"""


def draw_memory(stem, rows, title, metric):
    """stem.png and stem.pdf: each cache's metric minus the training path's (the paired
    difference over the same held-out sequences, with its 95% interval) against its bytes,
    for sweep.py's rows (dicts with family, bytes, difference and its interval, status), one
    series per family."""
    exact = next(r for r in rows if r["family"] == "exact")
    drawn = [r for r in rows if r["status"] == "ok" and r["family"] != "exact"]
    families = list(dict.fromkeys(r["family"] for r in drawn))
    blocks, series = [], []
    for i, family in enumerate(families):
        points = sorted((float(r["bytes"]), float(r["difference"]), float(r["difference_ci_low"]),
                         float(r["difference_ci_high"])) for r in drawn if r["family"] == family)
        blocks.append(f"$F{i} << EOD\n" + "\n".join(",".join(f"{v:.8g}" for v in p) for p in points) + "\nEOD")
        cache_type, _, storage = family.partition(" ")
        colour, point = _series_style(cache_type, storage == "(exact)", int(storage == "(reduced storage)"))
        series.append(f"$F{i} using 1:2:3:4 with yerrorlines pt {point} ps 1.3 lc rgb '#{colour:06x}' title '{family}'")
    values = [0.0] + [float(r[k]) for r in drawn for k in ("difference_ci_low", "difference_ci_high")]
    spread = max(values) - min(values) or 1.0
    sizes = [float(r["bytes"]) for r in drawn]
    exact_text = f"{float(exact['value']):.4f} [{float(exact['ci_low']):.4f}, {float(exact['ci_high']):.4f}]"
    fields = dict(title=title, tokens=exact["n"], metric=metric, xlo=min(sizes) / 2, xhi=max(sizes) * 2,
                  ylo=min(values) - 0.05 * spread, yhi=max(values) + 0.05 * spread, blocks="\n".join(blocks),
                  exact=exact_text, series=", ".join(series))
    _draw(MEMORY, stem, **fields)


TRAINING = r"""
set datafile separator ','
set terminal {terminal}
set output '{output}'
set title "{title}"
set xlabel 'step'
set key top right
{y2}set ylabel 'loss [nats per token]'
set grid
plot '{csv}' skip 1 using 1:2 with linespoints pt 7 title 'training batch', \
     '{csv}' skip 1 using 1:3 with linespoints pt 5 title 'held-out'{accuracy}
"""


def draw_training(stem, title, metric="loss"):
    """stem.png and stem.pdf from stem.csv (train.py's curve: loss, and the task's metric
    in the fourth column on a right axis when it is not the loss)."""
    y2 = accuracy = ""
    if metric != "loss":
        # the accuracy rises into the top right corner, where the key would sit
        y2 = f"set ytics nomirror\nset y2tics\nset y2label 'held-out {metric}'\nset key center right\n"
        accuracy = f", '{stem}.csv' skip 1 using 1:4 axes x1y2 with linespoints pt 9 title 'held-out {metric} (right axis)'"
    _draw(TRAINING, stem, title=title, y2=y2, accuracy=accuracy)


def _draw(template, stem, **fields):
    for terminal, ext in (("pngcairo noenhanced size 1600,700 font ',11'", "png"),
                          ("pdfcairo noenhanced size 9in,3.9in font ',8'", "pdf")):
        script = template.format(terminal=terminal, output=f"{stem}.{ext}", csv=f"{stem}.csv", **fields)
        subprocess.run(["gnuplot"], input=script, text=True, check=True)

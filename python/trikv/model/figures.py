"""The model's figures: the training curve, and a model's metric against its caches' resident
memory with 95% intervals (docs/model.md). Drawn by the study's figure system: the templates
studies/figures/gnuplot/model-memory.gp and model-training.gp, in the one style trikv.gp, with
each cache family's colour and marker from _core._series_style. This module writes only what
depends on the data (a script, and the memory figure's points, in a temporary directory: the
CSV beside the figure is what redraws it) and runs gnuplot."""
import csv
import os
import subprocess
import tempfile

from .._core import _gnuplot_style_dir, _series_style

# The training curves' colours: the first of trikv.gp's series palette (Okabe-Ito), as a study's
# first types (product, factor, window).
TRAINING_STYLE = [(0x0072B2, 7), (0xD55E00, 5), (0x009E73, 9)]


def draw_memory(stem, rows, title, metric):
    """stem.png and stem.pdf: each cache's metric minus the training path's (the paired
    difference over the same held-out sequences, with its 95% interval) against its bytes,
    for sweep.py's rows (dicts with family, bytes, difference and its interval, status), one
    series per family."""
    exact = next(r for r in rows if r["family"] == "exact")
    drawn = [r for r in rows if r["status"] == "ok" and r["family"] != "exact"]
    families = list(dict.fromkeys(r["family"] for r in drawn))
    styles = []
    for family in families:
        cache_type, _, storage = family.partition(" ")
        colour, point = _series_style(cache_type, storage == "(exact)", int(storage == "(reduced storage)"))
        styles.append((colour, point))
    points = [["series", "bytes", "difference", "difference_ci_low", "difference_ci_high"]]
    for i, family in enumerate(families, 1):
        points += [[i, *(f"{v:.8g}" for v in p)] for p in sorted(
            (float(r["bytes"]), float(r["difference"]), float(r["difference_ci_low"]), float(r["difference_ci_high"]))
            for r in drawn if r["family"] == family)]
    exact_text = f"{float(exact['value']):.4f} [{float(exact['ci_low']):.4f}, {float(exact['ci_high']):.4f}]"
    _draw("model-memory", stem, title, f"{exact['sequences']} held-out sequences of {exact['n']} tokens; paired 95% "
          "intervals", families, styles, points, {
              "X_LABEL": f"2-simplicial cache bytes per sequence, all layers, at {exact['n']} tokens",
              "Y_LABEL": f"held-out {metric}: cache − training path",
              "EXACT_LABEL": f"training path (exact): {metric} {exact_text}"})


def draw_training(stem, title, metric="loss", about=""):
    """stem.png and stem.pdf from stem.csv (train.py's curve: the loss of training batches and
    held out, and the task's metric on a right axis when it is not the loss); `about` is the
    subtitle (the model's description)."""
    labels = ["training batch", "held-out"] + ([] if metric == "loss" else [f"held-out {metric} (right axis)"])
    _draw("model-training", stem, title, about or "loss in nats per token", labels, TRAINING_STYLE[:len(labels)], None,
          {"DATA": os.path.abspath(f"{stem}.csv"), "METRIC": metric})


def _quoted(text):
    """A gnuplot single-quoted string (a quote doubled)."""
    return "'" + str(text).replace("'", "''") + "'"


def _draw(template, stem, title, subtitle, labels, styles, points, texts):
    """Renders stem.png and stem.pdf: a script with the data-dependent settings, then the
    template; `points` (rows, the header first), if any, are the template's DATA."""
    with tempfile.TemporaryDirectory(prefix="trikv-figure-") as scratch:
        if points is not None:
            texts = {"DATA": os.path.join(scratch, "points.csv"), **texts}
            with open(texts["DATA"], "w", newline="") as f:
                csv.writer(f, lineterminator="\n").writerows(points)
        lines = [f"out = {_quoted(os.path.abspath(stem))} . '.' . fmt", f"STYLE_DIR = {_quoted(_gnuplot_style_dir())}",
                 f"TITLE = {_quoted(title)}", f"SUBTITLE = {_quoted(subtitle)}",
                 f"array LABEL[{len(labels)}] = [{', '.join(map(_quoted, labels))}]",
                 f"array COLOUR[{len(labels)}] = [{', '.join(f'0x{c:06X}' for c, _ in styles)}]",
                 f"array POINT[{len(labels)}] = [{', '.join(str(p) for _, p in styles)}]",
                 f"array DASH[{len(labels)}] = [{', '.join('1' for _ in labels)}]"]
        lines += [f"{name} = {_quoted(value)}" for name, value in texts.items()]
        lines.append(f"load STYLE_DIR . '/{template}.gp'")
        script = os.path.join(scratch, "figure.gp")
        with open(script, "w") as f:
            f.write("\n".join(lines) + "\n")
        for fmt in ("png", "pdf"):
            subprocess.run(["gnuplot", "-e", f"fmt='{fmt}'", script], check=True)

"""The model's figures: the training curve, and a model's metric against its caches' resident
memory with 95% intervals (docs/model.md). Drawn by the study's figure system: the templates
studies/figures/gnuplot/model-memory.gp and model-training.gp, in the one style trikv.gp, with
each cache family's colour and marker from _core._series_style. This module writes only what
depends on the data (NAME.gp, and the memory figure's points) and runs gnuplot."""
import csv
import os
import subprocess

from .._core import _gnuplot_style_dir, _series_style

# The training curves' colours: the first of trikv.gp's series palette (Okabe-Ito), as a study's
# first types (product, factor, window).
TRAINING_STYLE = [(0x0072B2, 7), (0xD55E00, 5), (0x009E73, 9)]


def draw_memory(stem, rows, title, metric):
    """stem.png and stem.pdf: each cache's metric minus the training path's (the paired
    difference over the same held-out sequences, with its 95% interval) against its bytes,
    for sweep.py's rows (dicts with family, bytes, difference and its interval, status), one
    series per family. The points go to stem-figure.csv, the script to stem-figure.gp."""
    exact = next(r for r in rows if r["family"] == "exact")
    drawn = [r for r in rows if r["status"] == "ok" and r["family"] != "exact"]
    families = list(dict.fromkeys(r["family"] for r in drawn))
    styles = []
    for family in families:
        cache_type, _, storage = family.partition(" ")
        colour, point = _series_style(cache_type, storage == "(exact)", int(storage == "(reduced storage)"))
        styles.append((colour, point))
    with open(f"{stem}-figure.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["series", "bytes", "difference", "difference_ci_low", "difference_ci_high"])
        for i, family in enumerate(families, 1):
            points = sorted((float(r["bytes"]), float(r["difference"]), float(r["difference_ci_low"]),
                             float(r["difference_ci_high"])) for r in drawn if r["family"] == family)
            writer.writerows([i, *(f"{v:.8g}" for v in p)] for p in points)
    exact_text = f"{float(exact['value']):.4f} [{float(exact['ci_low']):.4f}, {float(exact['ci_high']):.4f}]"
    _draw("model-memory", stem, f"{stem}-figure", title, f"{exact['sequences']} held-out sequences of "
          f"{exact['n']} tokens; paired 95% intervals", families, styles, {
              "DATA": f"{os.path.basename(stem)}-figure.csv",
              "X_LABEL": f"2-simplicial cache bytes per sequence, all layers, at {exact['n']} tokens",
              "Y_LABEL": f"held-out {metric}: cache − training path",
              "EXACT_LABEL": f"training path (exact): {metric} {exact_text}"})


def draw_training(stem, title, metric="loss"):
    """stem.png and stem.pdf from stem.csv (train.py's curve: the loss of training batches and
    held out, and the task's metric on a right axis when it is not the loss); the script is stem.gp."""
    labels = ["training batch", "held-out"] + ([] if metric == "loss" else [f"held-out {metric} (right axis)"])
    _draw("model-training", stem, stem, title, "loss in nats per token", labels, TRAINING_STYLE[:len(labels)],
          {"DATA": f"{os.path.basename(stem)}.csv", "METRIC": metric})


def _quoted(text):
    """A gnuplot single-quoted string (a quote doubled)."""
    return "'" + str(text).replace("'", "''") + "'"


def _draw(template, stem, script_stem, title, subtitle, labels, styles, texts):
    """Writes script_stem.gp — the data-dependent settings, then the template — and renders
    stem.png and stem.pdf with it, in the script's directory."""
    lines = ["if (!exists('fmt')) fmt = 'png'", f"if (!exists('out')) out = {_quoted(os.path.basename(stem))} . '.' . fmt",
             f"if (!exists('STYLE_DIR')) STYLE_DIR = {_quoted(_gnuplot_style_dir())}",
             f"TITLE = {_quoted(title)}", f"SUBTITLE = {_quoted(subtitle)}",
             f"array LABEL[{len(labels)}] = [{', '.join(map(_quoted, labels))}]",
             f"array COLOUR[{len(labels)}] = [{', '.join(f'0x{c:06X}' for c, _ in styles)}]",
             f"array POINT[{len(labels)}] = [{', '.join(str(p) for _, p in styles)}]",
             f"array DASH[{len(labels)}] = [{', '.join('1' for _ in labels)}]"]
    lines += [f"{name} = {_quoted(value)}" for name, value in texts.items()]
    lines.append(f"load STYLE_DIR . '/{template}.gp'")
    script = f"{script_stem}.gp"
    with open(script, "w") as f:
        f.write(f"# {os.path.basename(script)}: drawn by python/trikv/model/figures.py; the layout is in "
                f"{template}.gp, the look in trikv.gp.\n# Redraw: gnuplot -e \"fmt='pdf'\" {os.path.basename(script)}\n"
                + "\n".join(lines) + "\n")
    for fmt in ("png", "pdf"):
        subprocess.run(["gnuplot", "-e", f"fmt='{fmt}'", os.path.basename(script)], check=True,
                       cwd=os.path.dirname(os.path.abspath(script)))

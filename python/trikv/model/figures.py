"""The model's figures (gnuplot): the training curve and the cache sweep (docs/model.md)."""
import math
import subprocess

from .._core import _gnuplot_style_dir, _series_style, caches
from .network import SIMPLICIAL

# The sweep's series, in the key's order: (cache type, kind, key entry); kind "exact" is an f32
# cache the registry calls exact, "reduced" a cache of that type in a smaller dtype.
SWEEP_SERIES = [
    ("window", "approximate", "window: k1/v1 over the last w1 tokens, k2/v2 over w2"),
    ("product", "exact", "product: exact over the full square (f32)"),
    ("product", "reduced", "product: reduced storage"),
    ("factor", "exact", "factor: exact over the full square (f32)"),
    ("factor", "reduced", "factor: reduced storage"),
    ("subgen2", "approximate", "subgen2: SubGen sketch of the pairs"),
    ("subgen4", "approximate", "subgen4: SubGen sketch of the pairs"),
    ("poly", "approximate", "poly: truncated Taylor series of exp"),
]

# Label placement, in inches, close to trikv.gp's geometry: a panel's plot area (COLUMN, PLOTH
# less tic labels and axis titles), the height and (generous) character width of a key-font
# (6 pt) label, the half width of a marker. A label sits beside its point, else farther out with
# a leader line to it.
PLOT_W, PLOT_H = 2.9, 1.9
LABEL_CHAR_W, LABEL_H = 0.68 * 6 / 72, 6 / 72
MARKER = 0.035
GAP = 0.045
AMBIGUOUS = (2 * MARKER) ** 2  # a label beside a point but nearer another costs as much as covering it
# (dx, dy, align) of a label's anchor from its point; align 1: the text starts there, -1: ends
# there, 0: centred. Beside the point first, then rings with a leader, in order of preference.
NEAR_SPOTS = [(GAP, 1.3 * GAP, 1), (-GAP, 1.3 * GAP, -1), (GAP, -1.3 * GAP, 1), (-GAP, -1.3 * GAP, -1),
              (0, 2.6 * GAP, 0), (0, -2.6 * GAP, 0), (1.5 * GAP, 0, 1), (-1.5 * GAP, 0, -1)]
FAR_SPOTS = [(r * math.cos(math.radians(a)), r * math.sin(math.radians(a)),
              0 if a in (90, 270) else 1 if math.cos(math.radians(a)) > 0 else -1)
             for r in (0.2, 0.32) for a in (90, 270, 45, 135, 315, 225, 0, 180)]


def sweep_series(spec):
    """The row's index into SWEEP_SERIES and its point label: the spec's budget ("w1=4,w2=16",
    "int8", "samples=8", "degree 2"; "f32" for a cache at its defaults)."""
    kind, _, parameters = spec.partition(":")
    tags = []
    for parameter in filter(None, parameters.split(",")):
        name, _, value = parameter.partition("=")
        tags.append(value if name == "dtype" else f"degree {value}" if name == "degree" else parameter)
    exact = {c["name"]: c["exact"] for c in caches()}[kind]
    storage = "reduced" if "dtype=" in spec else "exact" if exact else "approximate"
    index = next(i for i, (t, k, _) in enumerate(SWEEP_SERIES) if t == kind and k == storage)
    return index, ",".join(tags) or "f32"


def place_labels(points, tags, lines):
    """For each (point, tag) with a tag, greedily: (anchor, align, leader or None), all in inches
    of the plot area. The first spot whose text overlaps no marker, no label placed before, no
    reference line (heights `lines`) and no edge, and, beside its point, lies nearer it than any
    other point; else the one overlapping least."""
    def box(x, y, tag, spot):
        dx, dy, align = spot
        width = len(tag) * LABEL_CHAR_W
        left = x + dx - (0 if align > 0 else width if align < 0 else width / 2)
        return left, y + dy - LABEL_H / 2, left + width, y + dy + LABEL_H / 2

    def distance(b, x, y):
        return math.hypot(max(b[0] - x, 0.0, x - b[2]), max(b[1] - y, 0.0, y - b[3]))

    def overlap(a, b):
        return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))

    obstacles = [(x - MARKER, y - MARKER, x + MARKER, y + MARKER) for x, y in points]
    obstacles += [(0.0, y - 0.005, PLOT_W, y + 0.005) for y in lines]
    area = (0.0, 0.0, PLOT_W, PLOT_H)
    placed = []
    for (x, y), tag in zip(points, tags):
        if not tag:
            continue
        costs = []
        for spot in NEAR_SPOTS + FAR_SPOTS:
            b = box(x, y, tag, spot)
            outside = (b[2] - b[0]) * (b[3] - b[1]) - overlap(b, area)
            ambiguous = spot in NEAR_SPOTS and any(distance(b, *p) < distance(b, x, y) for p in points if p != (x, y))
            costs.append(sum(overlap(b, o) for o in obstacles) + outside + AMBIGUOUS * ambiguous)
        spot = (NEAR_SPOTS + FAR_SPOTS)[min(range(len(costs)), key=lambda i: (costs[i] > 0, costs[i], i))]
        b = box(x, y, tag, spot)
        obstacles.append(b)
        leader = None
        if spot in FAR_SPOTS:  # from the marker's edge to a gap short of the text's nearest point
            ex, ey = min(max(x, b[0]), b[2]), min(max(y, b[1]), b[3])
            length = math.hypot(ex - x, ey - y)
            ux, uy = (ex - x) / length, (ey - y) / length
            leader = ((x + ux * MARKER, y + uy * MARKER), (ex - ux * 0.015, ey - uy * 0.015))
        placed.append(((x + spot[0], y + spot[1]), spot[2], leader))
    return placed


def _gnuplot_text(text):
    return "'" + text.replace("'", "''") + "'"


def _gnuplot_array(name, values):
    items = ", ".join(_gnuplot_text(v) if isinstance(v, str) else str(v) for v in values)
    return f"array {name}[{len(values)}] = [{items}]"


def draw_sweep(stem, rows, config):
    """stem.png and stem.pdf from stem.csv (sweep.py's rows, as written there) through
    studies/figures/gnuplot/model-sweep.gp; config: the model's (network.Config)."""
    drawn = [r for r in rows if r["status"] == "ok"]
    tags = [sweep_series(r["cache"])[1] for r in drawn]
    memory_tags = list(tags)
    placed = {}  # (bytes, perplexity to 3 digits) -> the row whose memory label names that point
    for i, row in enumerate(drawn):
        # bf16 and fp16 factors sit on one point of the memory panel: one label names both.
        at = (row["cache_bytes"], f"{float(row['perplexity']):.3g}")
        if at in placed:
            memory_tags[placed[at]] += ", " + tags[i]
            memory_tags[i] = ""
        placed.setdefault(at, i)
    model = next(r for r in rows if int(r["exact_for_model"]))
    square = next(r for r in rows if r["cache"] == "factor")
    memory = [float(r["cache_bytes"]) for r in drawn]
    times = [float(r["step_ms"]) for r in drawn]
    perplexities = [float(r["perplexity"]) for r in drawn]
    ranges = {"XLO": min(memory) / 4, "XHI": max(memory) * 3, "TLO": math.floor(min(times) - 1),
              "THI": math.ceil(max(times) + 2), "YLO": math.floor(min(perplexities) - 1),
              "YHI": math.ceil(max(perplexities) + 1)}

    # Inches of the plot area from data and back: memory on a log axis, time and perplexity linear.
    def to_inches(value, lo, hi, size, log):
        scale = math.log if log else float
        return (scale(value) - scale(lo)) / (scale(hi) - scale(lo)) * size

    def to_data(inches, lo, hi, size, log):
        return lo * (hi / lo) ** (inches / size) if log else lo + (hi - lo) * inches / size

    y_axis = (ranges["YLO"], ranges["YHI"], PLOT_H, False)
    labels, texts = ["panel,x,y,align,text,x0,y0,x1,y1"], []
    for panel, (xs, panel_tags, x_axis) in enumerate(((memory, memory_tags, (ranges["XLO"], ranges["XHI"], PLOT_W, True)),
                                                       (times, tags, (ranges["TLO"], ranges["THI"], PLOT_W, False)))):
        points = [(to_inches(x, *x_axis), to_inches(y, *y_axis)) for x, y in zip(xs, perplexities)]
        lines = [to_inches(float(r["perplexity"]), *y_axis) for r in (model, square)]
        for ((ax, ay), align, leader), tag in zip(place_labels(points, panel_tags, lines), filter(None, panel_tags)):
            ends = ",".join(f"{to_data(u, *x_axis):.6g},{to_data(v, *y_axis):.6g}" for u, v in leader) if leader else ",,,"
            texts.append(tag)
            labels.append(f"{panel},{to_data(ax, *x_axis):.6g},{to_data(ay, *y_axis):.6g},{align},{len(texts)},{ends}")

    tokens = int(rows[0]["tokens"])
    simplicial = sum(kind == SIMPLICIAL for kind in config.layers)
    subtitle = (f"{len(config.layers)} layers ({simplicial} 2-simplicial, windows w1 = {config.w1}, w2 = {config.w2}), "
                f"d_model = {config.d_model}, {config.heads} heads of d = {config.d}; "
                f"{tokens:,} held-out bytes ({tokens // config.context} windows of {config.context})")
    series = [sweep_series(r["cache"])[0] for r in rows]
    used = sorted(set(series))
    settings = [
        f"DATA = {_gnuplot_text(stem + '.csv')}",
        f"TITLE = {_gnuplot_text('Held-out perplexity of the 2-simplicial byte-level model under each trikv cache')}",
        f"SUBTITLE = {_gnuplot_text(subtitle)}",
        f"MEMORY_LABEL = {_gnuplot_text(f'resident memory of the 2-simplicial layers’ caches after {config.context} tokens')}",
        "; ".join(f"{name} = {value}" for name, value in ranges.items()),
        _gnuplot_array("LABEL", [SWEEP_SERIES[i][2] for i in used]),
        _gnuplot_array("SERIES", [used.index(i) + 1 for i in series]),
        "$LABELS << EOD", *labels, "EOD", _gnuplot_array("LABEL_TEXT", texts),
        f"MODEL_PPL = {model['perplexity']}; SQUARE_PPL = {square['perplexity']}",
        "MODEL_KEY = " + _gnuplot_text(f"the model's own loss: window w1={config.w1},w2={config.w2} "
                                       f"(perplexity {float(model['perplexity']):.2f})"),
        "SQUARE_KEY = " + _gnuplot_text(f"exact full square ({float(square['perplexity']):.2f}): "
                                        "sees beyond the model's windows"),
    ]
    styles = [_series_style(SWEEP_SERIES[i][0], SWEEP_SERIES[i][1] == "exact", int(SWEEP_SERIES[i][1] == "reduced"))
              for i in used]
    settings += [_gnuplot_array("COLOUR", [colour for colour, _ in styles]),
                 _gnuplot_array("POINT", [point for _, point in styles])]
    for fmt in ("png", "pdf"):
        script = "\n".join([f"fmt = '{fmt}'", f"out = {_gnuplot_text(f'{stem}.{fmt}')}",
                            f"STYLE_DIR = {_gnuplot_text(_gnuplot_style_dir())}"] + settings +
                           ["load STYLE_DIR . '/model-sweep.gp'", ""])
        subprocess.run(["gnuplot"], input=script, text=True, check=True)


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

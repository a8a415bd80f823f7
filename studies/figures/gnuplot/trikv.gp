# trikv.gp: the look every trikv figure shares. A figure's template loads it once it has set
# PANELS (side by side), EXTRA (its key entries besides the series; '' for an absent one) and,
# if it has one, KEYTITLE; the generated NAME.gp has set fmt, out, TITLE, SUBTITLE and the series
# arrays LABEL, COLOUR, POINT, DASH. Any setting below can be given on the command line instead:
#   gnuplot -e "fmt='pdf'; FONT=8; COLUMN=3.3" NAME.gp
# Sizes are physical (inches, points): a panel is a paper column wide, its plot area PLOTH high;
# the title sits above and the key below, so the figure grows with the key and the plot area
# stays the same in every study.

if (!exists("COLUMN")) COLUMN = 3.5        # width of a panel [in]: one paper column
if (!exists("PLOTH")) PLOTH = 2.4          # height of a panel with tic labels and axis titles [in]
if (!exists("FONT")) FONT = 7              # text [pt]
if (!exists("KEYFONT")) KEYFONT = 6        # key and point labels [pt]
if (!exists("FONTFACE")) FONTFACE = 'Helvetica'  # tikz uses the LaTeX document's font
if (!exists("LW")) LW = 1                  # line width scale
if (!exists("PS")) PS = 0.6                # marker size scale
if (!exists("DPI")) DPI = 300              # png resolution
# Key columns are as wide as the longest entry at CHARW em per character, a generous average
# for sans-serif text, so that no entry runs into the next column or off the figure.
if (!exists("CHARW")) CHARW = 0.62
if (!exists("MAXKEYCOLS")) MAXKEYCOLS = 6
# A printed page's text block [in]: a figure grows (key, subtitle, panels) up to it and warns
# beyond it, on stderr, prefixed "trikv-figure-warning:" (trikv notes it in results.json).
if (!exists("MAXW")) MAXW = 7.2
if (!exists("MAXH")) MAXH = 9.0
if (!exists("MINPANELW")) MINPANELW = 1.8   # a panel's width when many share a row [in]: 4 fit a page
if (!exists("ROWS")) ROWS = 1              # rows of panels (templates with several scale PLOTH)

FORMATS = 'png pdf svg tex'
if (strstrt(' '.FORMATS.' ', ' '.fmt.' ') == 0) { exit error "fmt must be one of: ".FORMATS }
set encoding utf8
tex = (fmt eq 'tex')
T(plain, latex) = tex ? latex : plain       # a text in UTF-8, or in LaTeX for tikz
max(a, b) = a > b ? a : b
min(a, b) = a < b ? a : b
rgb(c) = sprintf('#%06X', c)
# Dominated and context points: the colour mixed with white.
fadechannel(c, shift) = int(255 - 0.4 * (255 - ((c >> shift) & 255))) << shift
fade(c) = fadechannel(c, 16) | fadechannel(c, 8) | fadechannel(c, 0)
GREY = 0x404040; BOUNDGREY = 0x707070; CONTEXTGREY = 0xB8B8B8

# Font sizes per point of true size: cairo's png text is set at 96 dpi, its pdf at 4/3 size.
FS_OF(f) = f eq 'png' ? DPI / 96.0 : f eq 'pdf' ? 0.75 : f eq 'svg' ? 96 / 72.0 : 1
FS = FS_OF(fmt)
# The `set terminal` command of format f for a canvas w × h inches with text of `pt` points.
terminal_in(f, w, h, pt) = \
  f eq 'png' ? sprintf("set terminal pngcairo size %d,%d font '%s,%g' linewidth %g pointscale %g", \
                       int(w * DPI), int(h * DPI), FONTFACE, pt * FS_OF(f), LW * DPI / 144.0, DPI / 72.0) : \
  f eq 'pdf' ? sprintf("set terminal pdfcairo size %gin,%gin font '%s,%g' fontscale 1 linewidth %g", w, h, FONTFACE, pt * FS_OF(f), LW) : \
  f eq 'svg' ? sprintf("set terminal svg size %d,%d font '%s,%g' linewidth %g background rgb 'white'", \
                       int(w * 96), int(h * 96), FONTFACE, pt * FS_OF(f), LW * 96 / 144.0) : \
               sprintf("set terminal tikz size %gin,%gin font ',%g' linewidth %g", w, h, pt, LW)
terminal(w, h, pt) = terminal_in(fmt, w, h, pt)

# The key below the panels, in up to two blocks so that a few long entries do not make every
# column wide: templates that set KEYBLOCKS = 2 put the entries of at most LIMIT characters in
# a first block (as many columns as fit) and longer ones in a second block below it, LIMIT
# chosen for the fewest rows.
if (!exists("KEYBLOCKS")) KEYBLOCKS = 1
if (!exists("KEYTITLE")) KEYTITLE = ''
if (!exists("KEYTITLE_CHARS")) KEYTITLE_CHARS = strlen(KEYTITLE)   # as printed, not as LaTeX source
array KEYLENGTH[|LABEL| + |EXTRA|]
KEYENTRIES = 0
do for [i = 1:|LABEL|] { if (LABEL[i] ne '') { KEYENTRIES = KEYENTRIES + 1; KEYLENGTH[KEYENTRIES] = strlen(LABEL[i]) } }
do for [i = 1:|EXTRA|] { if (EXTRA[i] ne '') { KEYENTRIES = KEYENTRIES + 1; KEYLENGTH[KEYENTRIES] = strlen(EXTRA[i]) } }
KEYCHARS = 0
do for [i = 1:KEYENTRIES] { KEYCHARS = max(KEYCHARS, KEYLENGTH[i]) }
W = (PANELS <= 2 ? COLUMN : max(MINPANELW, MAXW / PANELS)) * PANELS
if (W > MAXW + 1e-9) { print sprintf("trikv-figure-warning: %s: %d panels side by side need %.1f in, wider than a page's %.1f in", out, PANELS, W, MAXW) }
pitch(chars) = (chars * CHARW + 4) * KEYFONT / 72.0     # a key column: sample, gap and text [in]
KEYPITCH = pitch(KEYCHARS)
# Wide enough for one key column, the subtitle, the key's title and the title, up to MAXW.
NEEDW = 0.2 + max(max(KEYPITCH, strlen(SUBTITLE) * CHARW * KEYFONT / 72.0), \
                  max(KEYTITLE_CHARS * CHARW * KEYFONT / 72.0, strlen(TITLE) * CHARW * FONT / 72.0))
W = max(W, min(MAXW, NEEDW))
if (NEEDW > W + 1e-9) { print sprintf("trikv-figure-warning: %s: a key entry or the subtitle needs %.1f in, wider than the figure's %.1f in; it may be cut", out, NEEDW, W) }
blockrows(count, chars) = count == 0 ? 0 : ceil(count / real(max(1, min(MAXKEYCOLS, min(count, floor((W - 0.2) / pitch(chars)))))))
array BLOCKN[2]; array BLOCKCHARS[2]; array BLOCKROWS[2]
LIMIT = KEYCHARS; KEYROWS = blockrows(KEYENTRIES, KEYCHARS)
do for [c = 1:(KEYBLOCKS == 2 ? KEYENTRIES : 0)] {
    BLOCKN[1] = 0; BLOCKN[2] = 0; BLOCKCHARS[1] = 0; BLOCKCHARS[2] = 0
    do for [i = 1:KEYENTRIES] { b = KEYLENGTH[i] <= KEYLENGTH[c] ? 1 : 2; BLOCKN[b] = BLOCKN[b] + 1; BLOCKCHARS[b] = max(BLOCKCHARS[b], KEYLENGTH[i]) }
    # A second block costs a row more (the gap, and siblings apart): worth it only if it saves two.
    rows = blockrows(BLOCKN[1], BLOCKCHARS[1]) + blockrows(BLOCKN[2], BLOCKCHARS[2]) + (BLOCKN[2] > 0 ? 1 : 0)
    if (rows < KEYROWS) { KEYROWS = rows; LIMIT = KEYLENGTH[c] }
}
block_of(label) = strlen(label) <= LIMIT ? 1 : 2
BLOCKN[1] = 0; BLOCKN[2] = 0; BLOCKCHARS[1] = 0; BLOCKCHARS[2] = 0
do for [i = 1:KEYENTRIES] { b = KEYLENGTH[i] <= LIMIT ? 1 : 2; BLOCKN[b] = BLOCKN[b] + 1; BLOCKCHARS[b] = max(BLOCKCHARS[b], KEYLENGTH[i]) }
BLOCKROWS[1] = blockrows(BLOCKN[1], BLOCKCHARS[1]); BLOCKROWS[2] = blockrows(BLOCKN[2], BLOCKCHARS[2])
KEYROWS = max(1, BLOCKROWS[1] + BLOCKROWS[2])
# A key row is as high as the pdf terminal makes a line of key text, in every format, so that
# all formats share one layout: asked of gnuplot by dry runs on a 1 in high canvas, into the
# output file, which the figure then overwrites; the key's spacing makes this format's rows so.
line_in(f) = sprintf("%s; set output out; plot 0 notitle; LINE_%s = GPVAL_TERM_VCHAR / real(GPVAL_TERM_YSIZE)", \
                     terminal_in(f, W, 1, KEYFONT), f)
set xrange [0:1]; set yrange [0:1]
eval line_in('pdf')
eval line_in(fmt)
LINE = LINE_pdf                                          # [in]
KEYSPACING = LINE / value('LINE_' . fmt)
set autoscale xy
KEYTOP = 0.5 + (KEYTITLE ne '' ? 1 : 0)                 # lines above the first block's rows
KEYH = (KEYTOP + KEYROWS + 2) * LINE                     # a line's margin below, half a line between blocks
TITLEH = 3.2 * FONT / 72.0                               # title and subtitle lines [in]
H = TITLEH + PLOTH + KEYH
if (H > MAXH) { print sprintf("trikv-figure-warning: %s: %.1f in tall with %d key rows, taller than a page's %.1f in", out, H, KEYROWS, MAXH) }
eval terminal(W, H, FONT)
set output out
set datafile separator comma
set pointsize PS
KEYFONTSPEC = tex ? sprintf(',%g', KEYFONT) : sprintf('%s,%g', FONTFACE, KEYFONT * FS)

set multiplot
set label 1 TITLE at screen 0.5, screen 1 - 1.1 * FONT / 72.0 / H center noenhanced
set label 2 SUBTITLE at screen 0.5, screen 1 - 2.3 * FONT / 72.0 / H center noenhanced font KEYFONTSPEC

# Panel p (0, 1, ...): its column of the figure between the title and the key. Templates run
# `eval panel(p)`, then set their axes and plot.
panel(p) = sprintf("set origin %g, %g; set size %g, %g; ", p / real(PANELS), KEYH / H, 1.0 / PANELS, PLOTH / H) . \
  "set border 31 lw 0.8; set tics scale 0.8, 0.45; set grid xtics ytics back lt 1 lw 0.5 lc rgb '#e4e4e4'; " . \
  "set key off; set mxtics default; set mytics default"
# Panel (column c, row r) of a grid of PANELS × ROWS sharing PLOTH.
cell(c, r) = panel(c) . sprintf("; set origin %g, %g; set size %g, %g", c / real(PANELS), \
  (KEYH + (ROWS - 1 - r) * PLOTH / ROWS) / H, 1.0 / PANELS, PLOTH / ROWS / H)
# Tick labels at the measured n (NVALUES, ascending), at most MAXNTICS of them labelled.
if (!exists("MAXNTICS")) MAXNTICS = 8
NTICS = "set xtics (); NSTEP = ceil(|NVALUES| / real(MAXNTICS)); " . \
  "do for [t = 1:|NVALUES|] { set xtics add ((t - 1) % NSTEP == 0 ? sprintf('%g', NVALUES[t]) : '' NVALUES[t]) }; unset mxtics"
BYTESFORMAT = tex ? '%.0s\,%cB' : '%.0s %cB'   # 1 MB, 100 kB (powers of 10)

# The key: a plot of its own below the panels, filled column by column. Templates run
# `eval KEYPANEL` and then plot only keyentry clauses; with KEYBLOCKS = 2, once per block:
# `do for [KEYBLOCK = 1:2] { eval keypanel(KEYBLOCK); plot … title keyed(LABEL[i]) … }`.
keypanel(b) = sprintf("unset label; unset logscale; unset border; unset tics; unset grid; unset xlabel; unset ylabel; " . \
  "set origin 0, 0; set size 1, %g; set lmargin 0; set rmargin 0; set tmargin 0; set bmargin 0; " . \
  "set xrange [0:1]; set yrange [0:1]; " . \
  "set key at screen 0.5, screen %g center top vertical maxrows %d Left reverse samplen 2 spacing %g noenhanced font '%s'", \
  KEYH / H, (KEYH - (b == 1 ? 0.5 * LINE : (KEYTOP + BLOCKROWS[1] + 0.5) * LINE)) / H, max(1, BLOCKROWS[b]), KEYSPACING, \
  KEYFONTSPEC) . \
  sprintf(" title '%s'", b == 1 ? KEYTITLE : '') . \
  (exists("NOKEY") ? "; unset key" : '')   # -e NOKEY=1: the same figure without its key (tests compare)
KEYPANEL = keypanel(1)
keyed(label) = label ne '' && block_of(label) == KEYBLOCK ? label : ''

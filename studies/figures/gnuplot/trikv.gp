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
if (!exists("MAXKEYCOLS")) MAXKEYCOLS = 4

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
FS = fmt eq 'png' ? DPI / 96.0 : fmt eq 'pdf' ? 0.75 : fmt eq 'svg' ? 96 / 72.0 : 1
# The `set terminal` command for a canvas w × h inches with text of `pt` points.
terminal(w, h, pt) = \
  fmt eq 'png' ? sprintf("set terminal pngcairo size %d,%d font '%s,%g' linewidth %g pointscale %g", \
                         int(w * DPI), int(h * DPI), FONTFACE, pt * FS, LW * DPI / 144.0, DPI / 72.0) : \
  fmt eq 'pdf' ? sprintf("set terminal pdfcairo size %gin,%gin font '%s,%g' fontscale 1 linewidth %g", w, h, FONTFACE, pt * FS, LW) : \
  fmt eq 'svg' ? sprintf("set terminal svg size %d,%d font '%s,%g' linewidth %g background rgb 'white'", \
                         int(w * 96), int(h * 96), FONTFACE, pt * FS, LW * 96 / 144.0) : \
                 sprintf("set terminal tikz size %gin,%gin font ',%g' linewidth %g", w, h, pt, LW)

# The key below the panels: rows for every entry in as many columns as fit.
KEYENTRIES = 0; KEYCHARS = 0
do for [i = 1:|LABEL|] { KEYENTRIES = KEYENTRIES + 1; KEYCHARS = max(KEYCHARS, strlen(LABEL[i])) }
do for [i = 1:|EXTRA|] { if (EXTRA[i] ne '') { KEYENTRIES = KEYENTRIES + 1; KEYCHARS = max(KEYCHARS, strlen(EXTRA[i])) } }
if (!exists("KEYTITLE")) KEYTITLE = ''
W = COLUMN * PANELS
KEYPITCH = (KEYCHARS * CHARW + 4) * KEYFONT / 72.0      # a key column: sample, gap and text [in]
KEYCOLS = max(1, min(MAXKEYCOLS, min(KEYENTRIES, floor((W - 0.2) / KEYPITCH))))
KEYROWS = max(1, ceil(KEYENTRIES / real(KEYCOLS)))
# A key row is as high as this format's terminal makes a line of key text: asked of gnuplot by
# a dry run on a 1 in high canvas, into the output file, which the figure then overwrites.
eval terminal(W, 1, KEYFONT)
set output out
set xrange [0:1]; set yrange [0:1]
plot 0 notitle
LINE = GPVAL_TERM_VCHAR / real(GPVAL_TERM_YSIZE)        # [in]
set autoscale xy
KEYH = (KEYROWS + (KEYTITLE ne '' ? 1 : 0) + 2.5) * LINE   # a line's margin above and below
TITLEH = 3.2 * FONT / 72.0                               # title and subtitle lines [in]
H = TITLEH + PLOTH + KEYH
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
BYTESFORMAT = tex ? '%.0s\,%cB' : '%.0s %cB'   # 1 MB, 100 kB (powers of 10)

# The key: a plot of its own below the panels, filled column by column. Templates run
# `eval KEYPANEL` and then plot only keyentry clauses.
KEYPANEL = sprintf("unset label; unset logscale; unset border; unset tics; unset grid; unset xlabel; unset ylabel; " . \
  "set origin 0, 0; set size 1, %g; set lmargin 0; set rmargin 0; set tmargin 0; set bmargin 0; " . \
  "set xrange [0:1]; set yrange [0:1]; " . \
  "set key at screen 0.5, screen %g center top vertical maxrows %d Left reverse samplen 2 spacing 1 noenhanced font '%s'", \
  KEYH / H, KEYH / H - 0.5 * LINE / H, KEYROWS, KEYFONTSPEC) . \
  (KEYTITLE ne '' ? sprintf(" title '%s'", KEYTITLE) : '')

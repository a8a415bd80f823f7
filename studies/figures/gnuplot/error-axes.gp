# error-axes.gp: what error.gp and error-n.gp share, loaded by them before the style. From DATA
# (column error, the ERROR_METRIC the figure draws, docs/math.md §8): FLOOR (a quarter of the
# smallest positive error: zero errors are drawn there, as plotted_error(e) gives them),
# FLOORED (an error below it: a dotted line there, FLOOR_LABEL in the key) and HAS_EXACT (exact
# caches, class 1, drawn as reference points); ERROR_LABEL the axis's title, ERROR_WORDS what
# the error is (the key's title says it).
set datafile separator comma
stats DATA using (column('error_low') > 0 ? column('error_low') : NaN) nooutput
FLOOR = STATS_min / 4
plotted_error(e) = e > FLOOR ? e : FLOOR
stats DATA using (column('error_low') < FLOOR):(column('class') == 1) nooutput
FLOORED = STATS_max_x > 0; HAS_EXACT = STATS_max_y > 0
FLOOR_LABEL = sprintf('error 0 (drawn at %.2g)', FLOOR)
T(plain, latex) = fmt eq 'tex' ? latex : plain   # as trikv.gp, which loads later
ERROR_LABEL = ERROR_METRIC eq 'value' ? T('error ‖o − o*‖ / ō', 'error $\|o-o^*\|/\bar o$') : \
              T('relative error ‖o − o*‖ / ‖o*‖', 'relative error $\|o-o^*\|/\|o^*\|$')
# What the error is, for the key's title.
ERROR_WORDS_PLAIN = ERROR_METRIC eq 'value' ? 'error ‖o − o*‖/ō, ō² = Σ p ‖v1∘v2‖², median of positions' : \
                    ERROR_METRIC eq 'relative' ? 'error: median of the query positions' : 'error: worst timed step'
ERROR_WORDS = ERROR_METRIC eq 'value' ? \
                T(ERROR_WORDS_PLAIN, 'error $\|o-o^*\|/\bar o$, $\bar o^2 = \sum p\,\|v_1\circ v_2\|^2$, median of positions') : \
                ERROR_WORDS_PLAIN

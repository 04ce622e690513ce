"""Loss thresholds that extraction and selection share, each defined once.

This module imports nothing from the package, so that both the extraction of
candidates (below) and the selection among them (above) can read it.
"""

#: Relative validation loss (a share of the target's variance) above which a
#: formula fits poorly: the chosen formula is then reported with a
#: :class:`~nalu_sr.exceptions.PoorFitWarning`, and extraction does not try to
#: match its constants loosely to simple numbers.
POOR_FIT_LOSS = 1e-2

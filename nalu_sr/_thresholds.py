"""Loss thresholds that extraction and selection share, each defined once.

This module imports nothing from the package, so that both the extraction of
candidates (below) and the selection among them (above) can read it.
"""

#: Relative validation loss (a share of the target's variance) above which a
#: formula fits poorly: the chosen formula is then reported with a
#: :class:`~nalu_sr.exceptions.PoorFitWarning`, and extraction does not try to
#: match its constants loosely to simple numbers.
POOR_FIT_LOSS = 1e-2

#: Largest mean squared error, as a share of the target's mean square, at which
#: constants may become symbolic numbers (``1/2``, ``pi``, ``sqrt(2*pi)``):
#: twice the error a true law has under SRBench's 1% noise (``0.01**2``). An
#: approximation that fits worse keeps plain decimal constants.
SYMBOLIC_MAX_ERROR = 4e-4

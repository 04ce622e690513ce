"""What a fit warns about: a poor fit, too few rows to confirm a formula.

The estimator turns these messages into
:class:`~nalu_sr.exceptions.PoorFitWarning` and
:class:`~nalu_sr.exceptions.InsufficientDataWarning`.
"""

from __future__ import annotations

from nalu_sr._thresholds import POOR_FIT_LOSS
from nalu_sr.exactness import free_constants
from nalu_sr.selection import FittedFormulas

__all__ = ["POOR_FIT_LOSS", "insufficient_data_message", "poor_fit_message"]


def poor_fit_message(formulas: FittedFormulas) -> str | None:
    """Say why the chosen formula fits poorly, or return ``None`` if it does not.

    Parameters
    ----------
    formulas : FittedFormulas
        A fit's result.

    Returns
    -------
    str or None
        The text of a :class:`~nalu_sr.exceptions.PoorFitWarning` when the
        loss exceeds :data:`POOR_FIT_LOSS`.
    """
    if formulas.loss <= POOR_FIT_LOSS:
        return None
    return (
        f"no formula fits the data well: the best has a relative "
        f"validation error of {formulas.loss:.3g} "
        f"(R^2 = {1 - formulas.loss:.3g}): {formulas.expression}"
    )


def insufficient_data_message(
    formulas: FittedFormulas, n_rows: int, n_held_out: int, n_needed: int
) -> str | None:
    """Say why the data cannot confirm the chosen formula, or return ``None``.

    Parameters
    ----------
    formulas : FittedFormulas
        A fit's result.
    n_rows : int
        Rows the fit saw.
    n_held_out : int
        Validation rows held out of training (0 if none).
    n_needed : int
        Fewest rows whose held-out rows would outnumber the formula's
        :func:`~nalu_sr.exactness.free_constants`.

    Returns
    -------
    str or None
        The text of an :class:`~nalu_sr.exceptions.InsufficientDataWarning`,
        or ``None`` when ``n_held_out`` outnumbers the free constants.
    """
    n_constants = free_constants(formulas.expression)
    if n_held_out > n_constants:
        return None
    checked = (
        "no row could be held out to validate it"
        if n_held_out == 0
        else f"only {n_held_out} held-out validation row(s) checked it"
    )
    return (
        f"too few rows to confirm the formula {formulas.expression}: it has "
        f"{n_constants} free constant(s) and {checked}, so it is not claimed "
        f"exact; at least {n_needed} rows are needed (got {n_rows})"
    )

"""Pure step -> value schedules used during training."""

from __future__ import annotations


def linear_ramp(step: int, start: int, end: int, peak: float) -> float:
    """Ramp a weight from 0 at ``start`` linearly up to ``peak`` at ``end``.

    This is Madsen & Johansen's regulariser warm-up
    ``peak * clip((step - start) / (end - start), 0, 1)``.

    Parameters
    ----------
    step : int
        Current optimisation step.
    start : int
        Step at which the ramp begins.
    end : int
        Step at which the ramp reaches ``peak``.
    peak : float
        Final weight.

    Returns
    -------
    float
        The weight at ``step``.

    Examples
    --------
    >>> [linear_ramp(s, 10, 20, 2.0) for s in (0, 10, 15, 20, 30)]
    [0.0, 0.0, 1.0, 2.0, 2.0]
    """
    if end <= start:
        return peak if step >= start else 0.0
    fraction = (step - start) / (end - start)
    return peak * min(max(fraction, 0.0), 1.0)


def fractional_ramp(
    step: int, n_steps: int, start: float, end: float, peak: float
) -> float:
    """:func:`linear_ramp` with its ends given as fractions of a run's length.

    A ramp in fractions keeps the same shape whatever the budget: Madsen &
    Johansen ramp between absolute steps of a very long run.

    Parameters
    ----------
    step : int
        Current optimisation step.
    n_steps : int
        Length of the run.
    start : float
        Fraction of ``n_steps`` at which the ramp begins (rounded down).
    end : float
        Fraction of ``n_steps`` at which the ramp reaches ``peak`` (rounded down).
    peak : float
        Final weight.

    Returns
    -------
    float
        The weight at ``step``.

    Examples
    --------
    >>> [fractional_ramp(s, 100, 0.1, 0.2, 2.0) for s in (0, 10, 15, 20, 99)]
    [0.0, 0.0, 1.0, 2.0, 2.0]
    """
    return linear_ramp(step, int(start * n_steps), int(end * n_steps), peak)

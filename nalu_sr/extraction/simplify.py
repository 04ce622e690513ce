"""Bounded simplification of emitted formulas, checked on sample points.

:func:`sympy.simplify` is unbounded: on emitted formulas of 10 to 25
operations it can take over 15 seconds (``trigsimp`` on nested ``sin``, or
rational functions with float coefficients), and simplifying the conditions
of nested ``Piecewise`` expressions can take minutes. :func:`simplify_checked`
therefore runs a fixed pipeline of fast steps, cheaper for larger expressions,
with :func:`sympy.simplify` only for small expressions free of trigonometric
and hyperbolic functions. SymPy's polynomial steps run only on expressions
with few symbols and few expanded terms (:mod:`nalu_sr.extraction.budget`),
since a step that has started cannot be stopped. It never touches
``Piecewise`` conditions, keeps a step only if it does not make the
expression larger, and keeps the result only if it has the same values as
the original on the given sample points.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import sympy
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from nalu_sr.export.numpy import lambdify_printer
from nalu_sr.extraction.budget import past, polynomial_steps_fit

#: Relative tolerance of the equivalence check.
RTOL = 1e-9
#: Absolute tolerance of the check, relative to the largest finite value seen.
ATOL_SCALE = 1e-12
#: Expressions up to this multiple of ``max_ops`` still get the cheap steps.
CHEAP_STEPS_FACTOR = 5
#: Full :func:`sympy.simplify` only up to ``max_ops // FULL_SIMPLIFY_DIVISOR``.
FULL_SIMPLIFY_DIVISOR = 20

Step = Callable[[sympy.Expr], sympy.Expr]


#: Validation rows a found formula's simplification is checked on.
CHECK_ROWS = 64
#: Operations up to which a found law gets the full simplification steps.
FOUND_MAX_OPS = 200


def simplify_found(
    expr: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    X_val: np.ndarray,
    deadline: float | None = None,
) -> sympy.Expr:
    """Simplify a formula a search found, checked on the first validation rows.

    An approximation (float constants) is only tidied: SymPy's polynomial
    steps on its fitted powers and functions filled 24 GB on one Feynman law.

    Parameters
    ----------
    expr : sympy.Expr
        The formula.
    symbols : sequence of sympy.Symbol
        One symbol per column of ``X_val``.
    X_val : numpy.ndarray
        Validation rows; the first :data:`CHECK_ROWS` check each step.
    deadline : float or None, default=None
        No step starts after this :func:`time.perf_counter` time.

    Returns
    -------
    sympy.Expr
        The simplified formula, equal to ``expr`` on the rows.
    """
    max_ops = 0 if expr.atoms(sympy.Float) else FOUND_MAX_OPS
    simplified = simplify_checked(
        expr, symbols, X_val[:CHECK_ROWS], max_ops=max_ops, deadline=deadline
    )
    return with_signs_of_rows(simplified, symbols, X_val)


def with_signs_of_rows(
    expr: sympy.Expr, symbols: Sequence[sympy.Symbol], rows: np.ndarray
) -> sympy.Expr:
    """Drop the absolute values and roots of squares that the rows' signs settle.

    A formula found over positive inputs may read
    ``1/(sqrt(1/(x1**2*x2**2))*Abs(x0 - 1))`` where the law is
    ``x1*x2/(x0 - 1)``: they agree wherever ``x1`` and ``x2`` are positive
    and ``x0 > 1``, as on every row. Inputs positive on every row are
    treated as positive symbols, and ``Abs(a)`` becomes ``a`` or ``-a``
    where ``a`` has that sign on every row.

    Parameters
    ----------
    expr : sympy.Expr
        The formula.
    symbols : sequence of sympy.Symbol
        One symbol per column of ``rows``.
    rows : numpy.ndarray
        The rows whose signs decide.

    Returns
    -------
    sympy.Expr
        The formula, equal to ``expr`` on the rows; ``expr`` itself where
        nothing is settled or the result differs on a row.
    """
    if len(rows) == 0 or expr.has(sympy.Piecewise):
        return expr
    positive = {
        s: sympy.Dummy(s.name, positive=True)
        for s, column in zip(symbols, np.asarray(rows).T, strict=True)
        if bool(np.all(column > 0))
    }
    back = {dummy: symbol for symbol, dummy in positive.items()}
    signed = expr.xreplace(positive)
    settled = {}
    for absolute in signed.atoms(sympy.Abs):
        inner = absolute.args[0].xreplace(back)
        values = evaluate_sympy(inner, symbols, rows)
        if np.iscomplexobj(values) or not np.all(np.isfinite(values)):
            continue
        if np.all(values > 0):
            settled[absolute] = absolute.args[0]
        elif np.all(values < 0):
            settled[absolute] = -absolute.args[0]
    signed = signed.xreplace(settled).xreplace(back)
    if signed == expr or not _same_values(expr, signed, symbols, rows):
        return expr
    return signed


def simplify_checked(
    expr: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    sample_points: np.ndarray,
    *,
    max_ops: int = 200,
    timeout_s: float = 2.0,
    deadline: float | None = None,
) -> sympy.Expr:
    """Simplify ``expr`` within a size and time budget, checking its values.

    The steps get cheaper as the expression grows. Up to ``max_ops``
    operations (:func:`sympy.count_ops`): :func:`sympy.factor_terms`,
    :func:`sympy.cancel`, :func:`sympy.factor` and :func:`sympy.powsimp`, then
    :func:`sympy.simplify` if the expression has at most ``max_ops // 20``
    operations and no trigonometric or hyperbolic function. Up to
    ``5 * max_ops``: ``factor_terms`` and ``powsimp``. Beyond: ``factor_terms``
    only. The polynomial steps (``cancel``, ``factor``, ``simplify``) are
    also skipped when the expression has more than 10 free symbols or more
    than 500 terms expanded
    (:func:`~nalu_sr.extraction.budget.polynomial_steps_fit`): their cost
    grows steeply with both, and they cannot be interrupted. Each step is
    applied to the expression and to the branch values of its ``Piecewise``
    parts, never to their conditions; a step whose result has more
    operations than its input is dropped; and no step starts after
    ``timeout_s`` seconds or after ``deadline`` (a step that has started is
    not interrupted).

    Parameters
    ----------
    expr : sympy.Expr
        The expression to simplify.
    symbols : sequence of sympy.Symbol
        The variables, in the column order of ``sample_points``.
    sample_points : numpy.ndarray
        Points of shape ``(n, len(symbols))`` where the simplified expression
        must equal the original to a relative tolerance of ``1e-9`` (``nan``
        equals ``nan``; differences below ``1e-12`` times the largest finite
        value are ignored).
    max_ops : int, default=200
        Size up to which the whole pipeline runs.
    timeout_s : float, default=2.0
        Soft time budget in seconds.
    deadline : float or None, default=None
        A time on the :func:`time.perf_counter` clock after which no step
        starts (the search's ``max_time``). Past it, ``expr`` is returned
        as it is, without the value check.

    Returns
    -------
    sympy.Expr
        The simplified expression, or ``expr`` itself if simplifying raised or
        changed a value (then with a :class:`UserWarning`) or if ``deadline``
        had passed.

    Raises
    ------
    ValueError
        If ``sample_points`` does not have one column per symbol.

    Examples
    --------
    >>> import numpy as np
    >>> import sympy
    >>> x, y = sympy.symbols("x y", real=True)
    >>> simplify_checked((x**2 - y**2) / (x + y), [x, y], np.array([[1.0, 2.0]]))
    x - y
    """
    points = np.asarray(sample_points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != len(symbols):
        raise ValueError(
            f"sample_points must have shape (n, {len(symbols)}), got {points.shape}"
        )
    if past(deadline):
        return expr
    stop = time.perf_counter() + timeout_s
    if deadline is not None:
        stop = min(stop, deadline)
    try:
        candidate = _run_steps(expr, _steps_for(expr, max_ops), stop)
        if candidate == expr or _same_values(expr, candidate, symbols, points):
            return candidate
        reason = "it changed the value at a sample point"
    except Exception as error:  # SymPy raises many types; any means "keep expr".
        reason = f"it raised {type(error).__name__}: {error}"
    warnings.warn(
        f"kept the unsimplified expression because simplifying {reason}",
        UserWarning,
        stacklevel=2,
    )
    return expr


def _steps_for(expr: sympy.Expr, max_ops: int) -> tuple[Step, ...]:
    """Choose the simplification steps for an expression of this size."""
    ops = sympy.count_ops(expr)
    if ops > CHEAP_STEPS_FACTOR * max_ops:
        return (sympy.factor_terms,)
    if ops > max_ops or not polynomial_steps_fit(expr):
        return (sympy.factor_terms, sympy.powsimp)
    steps: tuple[Step, ...] = (
        sympy.factor_terms,
        sympy.cancel,
        sympy.factor,
        sympy.powsimp,
    )
    small = ops <= max_ops // FULL_SIMPLIFY_DIVISOR
    if small and not expr.has(TrigonometricFunction, HyperbolicFunction):
        steps += (sympy.simplify,)
    return steps


def _run_steps(expr: sympy.Expr, steps: Sequence[Step], stop: float) -> sympy.Expr:
    """Apply the steps in turn until ``stop``, keeping those that do not grow."""
    for step in steps:
        if past(stop):
            break
        candidate = around_piecewise(step, expr)
        if sympy.count_ops(candidate) <= sympy.count_ops(expr):
            expr = candidate
    return expr


def around_piecewise(step: Step, expr: sympy.Expr) -> sympy.Expr:
    """Apply ``step`` to ``expr`` and to each branch value, never to a condition.

    Every ``Piecewise`` is hidden behind a placeholder symbol while ``step``
    runs, and its branch values are treated the same way, recursively.
    Simplifying the conditions of nested ``Piecewise`` expressions (boolean
    and relational simplification) is where :func:`sympy.simplify` can take
    minutes; skipping it keeps each call small.

    Parameters
    ----------
    step : callable
        A function from ``sympy.Expr`` to an equal ``sympy.Expr``.
    expr : sympy.Expr
        The expression.

    Returns
    -------
    sympy.Expr
        ``expr`` after ``step``, with its ``Piecewise`` parts put back.
    """
    pieces: dict[sympy.Expr, sympy.Dummy] = {}
    masked = _mask_piecewise(expr, pieces)
    if not pieces:
        return step(expr)
    restore = {
        dummy: sympy.Piecewise(
            *((around_piecewise(step, value), condition) for value, condition in p.args)
        )
        for p, dummy in pieces.items()
    }
    return step(masked).xreplace(restore)


def _mask_piecewise(
    expr: sympy.Expr, pieces: dict[sympy.Expr, sympy.Dummy]
) -> sympy.Expr:
    """Replace each outermost ``Piecewise`` by a placeholder, noted in ``pieces``."""
    if isinstance(expr, sympy.Piecewise):
        return pieces.setdefault(expr, sympy.Dummy(f"piece{len(pieces)}"))
    if not expr.args or not expr.has(sympy.Piecewise):
        return expr
    return expr.func(*(_mask_piecewise(arg, pieces) for arg in expr.args))


def _same_values(
    original: sympy.Expr,
    candidate: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    points: np.ndarray,
) -> bool:
    """Whether two expressions agree on every sample point."""
    expected = evaluate_sympy(original, symbols, points)
    actual = evaluate_sympy(candidate, symbols, points)
    finite = np.abs(expected[np.isfinite(expected)])
    atol = ATOL_SCALE * max(1.0, float(finite.max(initial=0.0)))
    return bool(np.allclose(actual, expected, rtol=RTOL, atol=atol, equal_nan=True))


def evaluate_sympy(
    expr: sympy.Expr, symbols: Sequence[sympy.Symbol], points: np.ndarray
) -> np.ndarray:
    """Evaluate a SymPy expression at each row of ``points`` with NumPy.

    Parameters
    ----------
    expr : sympy.Expr
        The expression.
    symbols : sequence of sympy.Symbol
        The variables, in the column order of ``points``.
    points : numpy.ndarray
        Points of shape ``(n, len(symbols))``.

    Returns
    -------
    numpy.ndarray
        The ``n`` values (complex where the expression is). Values off the
        expression's domain are ``nan`` or ``inf``, without warnings; ``zoo``
        becomes ``nan``.
    """
    function = sympy.lambdify(
        list(symbols), expr, modules="numpy", printer=lambdify_printer()
    )
    with np.errstate(all="ignore"):
        values = function(*np.asarray(points, dtype=np.float64).T)
    return np.broadcast_to(np.asarray(values), (len(points),))

"""Size and time bounds for the symbolic steps of extraction.

A symbolic step that has started cannot be stopped from the same thread, so
the bounds are checked before each step starts. SymPy's polynomial
algorithms (:func:`sympy.cancel`, :func:`sympy.factor`, and
:func:`sympy.simplify`, which calls them) use a dense recursive
representation: their cost grows steeply with the number of variables and
with the number of monomials after expansion. ``factor`` of a product of two
sums over 30 variables takes about 10 s, and ``cancel`` of a formula over 100
variables did not return in minutes (heuristic gcd on huge integers). The
functions here measure both quantities with one cheap pass over the
expression, capped so that measuring never costs more than the cap.
"""

from __future__ import annotations

import math
import time

import sympy

#: Polynomial steps run only on expressions with at most this many symbols.
MAX_POLYNOMIAL_SYMBOLS = 10
#: ... and at most this many monomials once numerators and denominators are
#: expanded (estimated by :func:`expanded_terms`).
MAX_POLYNOMIAL_TERMS = 500
#: Largest ``|p| * q`` of a rational exponent ``p/q`` the polynomial steps take
#: on (see :func:`exponent_size`).
MAX_POLYNOMIAL_EXPONENT = 24


def past(deadline: float | None) -> bool:
    """Whether a :func:`time.perf_counter` deadline has passed (``None``: never).

    Parameters
    ----------
    deadline : float or None
        A time on the :func:`time.perf_counter` clock.

    Returns
    -------
    bool
        ``True`` once the clock has reached ``deadline``.
    """
    return deadline is not None and time.perf_counter() >= deadline


def expanded_terms(expr: sympy.Expr, cap: int = MAX_POLYNOMIAL_TERMS) -> int:
    """Estimate the number of monomials of ``expr`` expanded, up to ``cap``.

    A sum has the terms of its arguments added, a product their terms
    multiplied, and an integer power ``p**n`` of a ``t``-term base the
    ``t**|n|`` terms of its expansion (negative powers count as
    denominators, which polynomial steps expand too). Anything else
    (symbols, numbers, functions, fractional powers) counts as one term.
    The estimate is an upper bound on the monomial count, and the walk stops
    growing once it reaches ``cap``.

    Parameters
    ----------
    expr : sympy.Expr
        The expression.
    cap : int, default=MAX_POLYNOMIAL_TERMS
        Value above which the exact estimate does not matter.

    Returns
    -------
    int
        The estimate, at most ``cap + 1``.

    Examples
    --------
    >>> import sympy
    >>> a, b, c = sympy.symbols("a b c")
    >>> expanded_terms((a + b) * (a + c) + c)
    5
    >>> expanded_terms((a + b + c) ** 30, cap=100)
    101
    """
    return min(_terms(expr, cap), cap + 1)


def _terms(expr: sympy.Expr, cap: int) -> int:
    """:func:`expanded_terms` without the final clip (may exceed ``cap``)."""
    if isinstance(expr, sympy.Add):
        total = 0
        for arg in expr.args:
            total += _terms(arg, cap)
            if total > cap:
                return total
        return total
    if isinstance(expr, sympy.Mul):
        product = 1
        for arg in expr.args:
            product *= _terms(arg, cap)
            if product > cap:
                return product
        return product
    if isinstance(expr, sympy.Pow) and expr.exp.is_Integer:
        base = _terms(expr.base, cap)
        if base == 1:
            return 1
        # log-compare so that x**1000 does not build a huge integer.
        if abs(int(expr.exp)) * math.log(base) > math.log(cap):
            return cap + 1
        return int(base ** abs(int(expr.exp)))
    return 1


def polynomial_steps_fit(expr: sympy.Expr) -> bool:
    """Whether ``expr`` is small enough for SymPy's polynomial algorithms.

    Parameters
    ----------
    expr : sympy.Expr
        The expression.

    Returns
    -------
    bool
        ``True`` when ``expr`` has at most :data:`MAX_POLYNOMIAL_SYMBOLS`
        free symbols, rational exponents no larger than
        :data:`MAX_POLYNOMIAL_EXPONENT` (:func:`exponent_size`) and at most
        :data:`MAX_POLYNOMIAL_TERMS` estimated monomials
        (:func:`expanded_terms`).

    Examples
    --------
    >>> import sympy
    >>> xs = sympy.symbols("x0:100")
    >>> polynomial_steps_fit(sum(xs[:25]) * sum(xs[12:37]))
    False
    >>> polynomial_steps_fit((xs[0] + xs[1]) * xs[2])
    True
    """
    if len(expr.free_symbols) > MAX_POLYNOMIAL_SYMBOLS:
        return False
    if exponent_size(expr) > MAX_POLYNOMIAL_EXPONENT:
        return False
    return expanded_terms(expr) <= MAX_POLYNOMIAL_TERMS


def exponent_size(expr: sympy.Expr) -> int:
    """Largest ``|p| * q`` over the rational exponents ``p/q`` in ``expr``.

    SymPy's polynomial algorithms store a polynomial densely: a generator
    ``x**(1/6)`` raised to ``31`` (``x**(31/6)``) makes a dense array with a
    slot per degree in every generator, which on five symbols filled 24 GB.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> exponent_size(x**2 + sympy.sqrt(x)), exponent_size(x ** sympy.Rational(31, 6))
    (2, 186)
    """
    size = 0
    for power in expr.atoms(sympy.Pow):
        exponent = power.exp
        if exponent.is_Rational:
            size = max(size, abs(int(exponent.p)) * int(exponent.q))
    return size

"""Recognising simple numbers: small rationals, and their products with pi and e.

Exact matches (within ``1e-6``, :func:`simple_number`) serve exact data; loose
matches (within 1%, :func:`loose_replacements`) serve laws under noise.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

_TRANSCENDENTALS: tuple[tuple[sympy.Expr, float], ...] = (
    (sympy.pi, math.pi),
    (1 / sympy.pi, 1 / math.pi),
    (sympy.pi**2, math.pi**2),
    (1 / sympy.pi**2, 1 / math.pi**2),
    (sympy.E, math.e),
    (1 / sympy.E, 1 / math.e),
    (sympy.sqrt(sympy.pi), math.sqrt(math.pi)),
    (1 / sympy.sqrt(sympy.pi), 1 / math.sqrt(math.pi)),
    (sympy.sqrt(2 * sympy.pi), math.sqrt(2 * math.pi)),
    (1 / sympy.sqrt(2 * sympy.pi), 1 / math.sqrt(2 * math.pi)),
    (sympy.sqrt(2), math.sqrt(2)),
)


def simple_number(
    value: float, rtol: float = 1e-6, max_denominator: int = 12
) -> sympy.Expr | None:
    """Return a simple exact number within ``rtol`` of ``value``, if there is one.

    Tried in order of simplicity: integers, rationals ``p/q`` with
    ``q <= max_denominator``, then such rationals times ``pi``, ``1/pi``,
    ``pi**2``, ``1/pi**2``, ``e``, ``1/e``, ``sqrt(pi)``, ``1/sqrt(pi)``,
    ``sqrt(2*pi)``, ``1/sqrt(2*pi)`` or ``sqrt(2)``.

    Parameters
    ----------
    value : float
        The constant to recognise.
    rtol : float, default=1e-6
        Largest accepted relative difference.
    max_denominator : int, default=12
        Largest denominator of the rational part.

    Returns
    -------
    sympy.Expr or None
        The exact number, or ``None`` when nothing simple is close enough.

    Examples
    --------
    >>> simple_number(0.0795774715)
    1/(4*pi)
    >>> simple_number(-1.5)
    -3/2
    >>> simple_number(0.1234567) is None
    True
    """
    if not math.isfinite(value):
        return None
    if value == 0:
        return sympy.Integer(0)
    rational = _close_rational(value, rtol, max_denominator)
    if rational is not None:
        return rational
    for symbolic, numeric in _TRANSCENDENTALS:
        rational = _close_rational(value / numeric, rtol, max_denominator)
        if rational is not None:
            return rational * symbolic
    return None


def _close_rational(
    value: float, rtol: float, max_denominator: int
) -> sympy.Rational | None:
    """Return the simplest small-denominator rational within ``rtol``, or None."""
    candidate = Fraction(value).limit_denominator(max_denominator)
    if candidate == 0 or abs(float(candidate) - value) > rtol * abs(value):
        return None
    return sympy.Rational(candidate.numerator, candidate.denominator)


#: Largest relative distance at which a constant may be replaced by a simple
#: number in the second pass; the validation loss decides whether it is kept.
LOOSE_RTOL = 1e-2
_SMALL = 12
_BASES: tuple[sympy.Expr, ...] = (
    sympy.Integer(1),
    sympy.pi,
    1 / sympy.pi,
    sympy.pi**2,
    1 / sympy.pi**2,
    sympy.E,
    1 / sympy.E,
)


def exact_replacements(value: float) -> list[sympy.Expr]:
    """Zero, then :func:`simple_number`'s match within ``1e-6`` (any numerator)."""
    exact = simple_number(value)
    return [sympy.Integer(0)] if exact is None else [sympy.Integer(0), exact]


#: Bases of loose matches inside a function's argument: rationals and
#: multiples of pi (``sin(2*pi*x)``); an ``e`` or ``pi**2`` there is the
#: signature of a fitted approximation, not of a law.
ARGUMENT_BASES: tuple[sympy.Expr, ...] = (sympy.Integer(1), sympy.pi, 1 / sympy.pi)


def loose_replacements(
    value: float, bases: tuple[sympy.Expr, ...] = _BASES
) -> list[sympy.Expr]:
    """Numbers ``p/q * base`` with ``|p|, q <= 12`` within 1%, simplest first.

    Ordered by simplicity rather than by distance: under noise a looser match
    is often the intended one (``3.1439`` is ``pi``, not ``22/7``).
    """
    if not math.isfinite(value) or value == 0:
        return []
    found: list[sympy.Expr] = []
    for base in bases:
        ratio = Fraction(value / float(base)).limit_denominator(_SMALL)
        close = abs(float(ratio) * float(base) - value) <= LOOSE_RTOL * abs(value)
        if ratio != 0 and abs(ratio.numerator) <= _SMALL and close:
            found.append(sympy.Rational(ratio.numerator, ratio.denominator) * base)
    return sorted(found, key=_simplicity)


def _simplicity(number: sympy.Expr) -> tuple[int, int, int]:
    """Sort key: plain rationals first, then small denominators and numerators."""
    rational, rest = number.as_coeff_Mul()
    numerator, denominator = sympy.fraction(rational)
    return (0 if rest == 1 else 1, int(denominator), abs(int(numerator)))


#: Largest numerator or denominator of a rational an approximation may show;
#: beyond it (``841/59``) the number is a fitted value dressed as a fraction.
MAX_PLAIN_TERM = 100


def decimal_constants(expression: sympy.Expr) -> sympy.Expr:
    """Write every number of an approximation as a decimal, bar small rationals.

    Multiples of pi or e, roots (``sqrt(2)``) and rationals with a term above
    :data:`MAX_PLAIN_TERM` become floats of the same value; integers, small
    rationals and the rational exponents of powers (``x**(3/2)``) stay. The
    formula's values do not change beyond rounding.

    Parameters
    ----------
    expression : sympy.Expr
        A formula that is not a law.

    Returns
    -------
    sympy.Expr
        The same formula with its fitted numbers as decimals.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> decimal_constants(841 * x / (59 * sympy.pi**2) + sympy.Rational(3, 2))
    1.44425619395265*x + 3/2
    >>> decimal_constants(x ** sympy.Rational(3, 2) / 4)
    x**(3/2)/4
    """
    if expression.is_number:
        return expression if _plain(expression) else sympy.Float(expression.evalf())
    if isinstance(expression, sympy.Pow) and expression.exp.is_Rational:
        return sympy.Pow(decimal_constants(expression.base), expression.exp)
    if expression.is_Atom or not expression.args:
        return expression
    if isinstance(expression, sympy.Piecewise | sympy.logic.boolalg.Boolean):
        return expression
    return expression.func(*(decimal_constants(arg) for arg in expression.args))


def _plain(number: sympy.Expr) -> bool:
    """Whether a number is an integer or a rational with small terms."""
    if not isinstance(number, sympy.Rational):
        return isinstance(number, sympy.Float)
    return bool(abs(number.p) <= MAX_PLAIN_TERM and number.q <= MAX_PLAIN_TERM)


def dressed(expression: sympy.Expr) -> bool:
    """Whether a formula has fitted floats or large rationals (an approximation).

    Such a formula is an approximation whose numbers only look exact
    (``0.3*x + pi``, ``841*x/59``). A formula whose every number is an
    integer, a small rational or a small multiple of pi or e may be a law
    under noise.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> dressed(0.3 * x + sympy.pi), dressed(841 * x / 59), dressed(2 * sympy.pi * x)
    (True, True, False)
    """
    if expression.atoms(sympy.Float):
        return True
    return not all(_plain(r) for r in expression.atoms(sympy.Rational))


#: Relative distance from a whole number within which a law's float is tried
#: as that number (a law's fitted 0.999999999999994 is 1).
NEAR_INTEGRAL_RTOL = 1e-9


def integral_floats(expression: sympy.Expr, rtol: float = 0.0) -> sympy.Expr:
    """Replace floats at (or within ``rtol`` of) a whole number by that integer.

    A law's formula shows ``x0 + 1``, not ``1.0*x0 + 1.0``: with ``rtol=0``
    only floats that are whole numbers (``1.0``, ``-2.0``, ``0.0``) go, and
    the values do not change. With ``rtol`` (:data:`NEAR_INTEGRAL_RTOL` for a
    law, whose fitted floats carry the last digits of the solver) floats that
    close to a whole number go too, and the caller checks that the formula
    still fits.

    Parameters
    ----------
    expression : sympy.Expr
        A formula.
    rtol : float, default=0.0
        Largest distance to the whole number, relative to it (zero is
        matched only exactly).

    Returns
    -------
    sympy.Expr
        The formula with those floats replaced.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> integral_floats(1.0 * x**5 + 2.0 + 0.5 * x)
    x**5 + 0.5*x + 2
    >>> integral_floats(0.999999999999994 * x + 2.5 + 3.0000000000001 * x**2, 1e-9)
    3*x**2 + x + 2.5
    """
    whole_numbers = {}
    for number in expression.atoms(sympy.Float):
        value = float(number)
        if not math.isfinite(value):
            continue
        whole = round(value)
        if abs(value - whole) <= rtol * abs(whole):
            whole_numbers[number] = sympy.Integer(whole)
    return expression.xreplace(whole_numbers) if whole_numbers else expression

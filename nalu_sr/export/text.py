"""Formulas as text and LaTeX, with floats rounded to significant digits.

Only floating-point constants (``sympy.Float``, the fitted ones) are rounded;
integers, rationals, ``pi`` and ``E`` are exact and print as they are. The
rounding happens in the printer, so the formula itself is never changed.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

__all__ = ["sympy_to_latex", "sympy_to_string"]


def _significant(value: float, precision: int) -> tuple[str, int | None]:
    """Round to ``precision`` significant digits: mantissa and power of ten.

    The power is ``None`` when the number reads best without one (as
    ``format(value, "g")`` decides). A mantissa that rounds to a whole number
    keeps a ``.0`` so that a fitted constant still reads as a float.
    """
    text = format(value, f".{precision}g")
    mantissa, _, exponent = text.partition("e")
    if mantissa.lstrip("-").isdigit():
        mantissa += ".0"
    return mantissa, int(exponent) if exponent else None


class _RoundedStrPrinter(StrPrinter):
    """SymPy's string printer with floats rounded to significant digits."""

    def __init__(self, precision: int) -> None:
        super().__init__()
        self._precision = precision

    def _print_Float(self, expr: sympy.Float) -> str:
        mantissa, exponent = _significant(float(expr), self._precision)
        return mantissa if exponent is None else f"{mantissa}e{exponent:+d}"


class _RoundedLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with floats rounded to significant digits."""

    def __init__(self, precision: int) -> None:
        super().__init__()
        self._precision = precision

    def _print_Float(self, expr: sympy.Float) -> str:
        mantissa, exponent = _significant(float(expr), self._precision)
        if exponent is None:
            return mantissa
        times = self._settings["mul_symbol_latex_numbers"]
        return f"{mantissa}{times}10^{{{exponent}}}"


def _check_precision(precision: Any) -> int:
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 1:
        raise ValueError(f"precision must be a positive int or None, got {precision!r}")
    return precision


def sympy_to_string(expression: sympy.Basic, precision: int | None = None) -> str:
    """Write a formula as a string, floats rounded to significant digits.

    Parameters
    ----------
    expression : sympy.Basic
        The formula.
    precision : int or None, default=None
        Significant digits of each float; ``None`` prints them in full, as
        ``str(expression)`` does.

    Returns
    -------
    str
        The formula in SymPy's (Python-compatible) syntax.

    Raises
    ------
    ValueError
        If ``precision`` is not a positive int or ``None``.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> sympy_to_string(sympy.Float(1.23456) * x + sympy.pi / 4, precision=3)
    '1.23*x + pi/4'
    >>> sympy_to_string(sympy.Float(123456.0) * x, precision=2)
    '1.2e+5*x'
    """
    if precision is None:
        return str(expression)
    return str(_RoundedStrPrinter(_check_precision(precision)).doprint(expression))


def sympy_to_latex(expression: sympy.Basic, precision: int | None = 3) -> str:
    r"""Write a formula as LaTeX, floats rounded to significant digits.

    Parameters
    ----------
    expression : sympy.Basic
        The formula.
    precision : int or None, default=3
        Significant digits of each float; ``None`` prints them in full, as
        ``sympy.latex`` does.

    Returns
    -------
    str
        The LaTeX source, without surrounding ``$``.

    Raises
    ------
    ValueError
        If ``precision`` is not a positive int or ``None``.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> print(sympy_to_latex(sympy.Float(0.000123456) * x + sympy.Rational(1, 3)))
    0.000123 x + \frac{1}{3}
    >>> print(sympy_to_latex(sympy.Float(2.5e-7) * x, precision=2))
    2.5 \cdot 10^{-7} x
    """
    if precision is None:
        return str(sympy.latex(expression))
    return str(_RoundedLatexPrinter(_check_precision(precision)).doprint(expression))

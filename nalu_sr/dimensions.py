"""Physical dimensions: unit strings, and the dimension of a formula.

A unit string such as ``"kg*m/s**2"`` becomes a :class:`Dimension`, the
exponents of the seven SI base units (kg, m, s, A, K, mol, cd). Only the
dimension counts, not the scale: ``"g"`` and ``"kg"`` are both a mass, so
data in any consistent units work. Derived SI units (N, J, W, Pa, C, V, F,
Ohm, S, Wb, T, H, Hz), a few common ones (g, L, eV, min, h, rad, sr) and SI
prefixes (``"km"``, ``"ns"``, ``"uF"``) are known; ``"1"`` or ``""`` is
dimensionless.

:func:`formula_dimension` follows a formula through its operations: terms
of a sum must share a dimension, a function's argument (``exp``, ``sin``,
``log``) must be dimensionless, and numbers are dimensionless. A formula
that breaks a rule has no dimension (``None``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy

#: The SI base units, in the order of :attr:`Dimension.exponents`.
BASE_UNITS: tuple[str, ...] = ("kg", "m", "s", "A", "K", "mol", "cd")

#: Units defined through the base units (their scale does not matter).
DERIVED_UNITS: Mapping[str, str] = {
    "N": "kg*m/s**2", "J": "N*m", "W": "J/s", "Pa": "N/m**2", "C": "A*s",
    "V": "W/A", "F": "C/V", "Ohm": "V/A", "S": "A/V", "Wb": "V*s",
    "T": "Wb/m**2", "H": "Wb/A", "Hz": "1/s", "g": "kg", "L": "m**3",
    "eV": "J", "min": "s", "h": "s", "rad": "1", "sr": "1",
}  # fmt: skip

#: SI prefixes a unit name may carry (``u`` for micro).
PREFIXES: tuple[str, ...] = ("Y", "Z", "E", "P", "G", "M", "k", "h", "da", "d",
                             "c", "m", "u", "n", "p", "f", "a", "z", "y")  # fmt: skip

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_]+)|(\*\*|\^|[*/()+-]))")


@dataclass(frozen=True)
class Dimension:
    """Exponents of the SI base units: ``m/s**2`` is ``(0, 1, -2, 0, 0, 0, 0)``.

    Attributes
    ----------
    exponents : tuple of Fraction
        One exponent per entry of :data:`BASE_UNITS`.
    """

    exponents: tuple[Fraction, ...] = (Fraction(0),) * len(BASE_UNITS)

    def __mul__(self, other: Dimension) -> Dimension:
        pairs = zip(self.exponents, other.exponents, strict=True)
        return Dimension(tuple(a + b for a, b in pairs))

    def __truediv__(self, other: Dimension) -> Dimension:
        return self * other ** Fraction(-1)

    def __pow__(self, power: Fraction) -> Dimension:
        return Dimension(tuple(a * power for a in self.exponents))

    @property
    def dimensionless(self) -> bool:
        """Whether every exponent is zero."""
        return not any(self.exponents)

    def __str__(self) -> str:
        parts = [
            name if power == 1 else f"{name}**{_power_text(power)}"
            for name, power in zip(BASE_UNITS, self.exponents, strict=True)
            if power
        ]
        return "*".join(parts) or "1"


DIMENSIONLESS = Dimension()


def _power_text(power: Fraction) -> str:
    return str(power) if power.denominator == 1 else f"({power})"


def parse_units(text: str, where: str = "unit") -> Dimension:
    """Return the dimension of a unit string such as ``"kg*m/s**2"``.

    Parameters
    ----------
    text : str
        Unit names joined by ``*`` and ``/``, with integer or fractional
        powers (``**`` or ``^``) and parentheses; ``"1"`` or ``""`` for a
        dimensionless quantity.
    where : str, default="unit"
        What the string is (``"X_units[2]"``), for the error message.

    Returns
    -------
    Dimension

    Raises
    ------
    ValueError
        Naming ``where``, the string and the unknown unit or the bad syntax.
    """
    if not isinstance(text, str):
        raise ValueError(f"{where} must be a string such as 'kg*m/s**2'; got {text!r}")
    tokens = _tokens(text, where)
    parser = _UnitParser(tokens, text, where)
    dimension = parser.product()
    if parser.position != len(tokens):
        raise parser.error(f"unexpected {tokens[parser.position]!r}")
    return dimension


def _tokens(text: str, where: str) -> list[str]:
    tokens, position = [], 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None:
            raise ValueError(
                f"{where} {text!r}: cannot read {stripped[position:]!r}; write units "
                "such as 'kg*m/s**2'"
            )
        tokens.append(match.group(match.lastindex or 0))
        position = match.end()
    return tokens


class _UnitParser:
    """Recursive descent over unit tokens: products of powers of units."""

    def __init__(self, tokens: list[str], text: str, where: str) -> None:
        self.tokens, self.text, self.where = tokens, text, where
        self.position = 0

    def error(self, problem: str) -> ValueError:
        return ValueError(f"{self.where} {self.text!r}: {problem}")

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise self.error("ends too early")
        self.position += 1
        return token

    def product(self) -> Dimension:
        if self._peek() is None:
            return DIMENSIONLESS
        dimension = self.power()
        while self._peek() in ("*", "/"):
            operator = self._take()
            factor = self.power()
            dimension = dimension * factor if operator == "*" else dimension / factor
        return dimension

    def power(self) -> Dimension:
        base = self.atom()
        if self._peek() in ("**", "^"):
            self._take()
            return base ** self.exponent()
        return base

    def exponent(self) -> Fraction:
        token = self._take()
        if token == "(":
            value = self.exponent()
            if self._peek() == "/":
                self._take()
                value /= self.exponent()
            if self._take() != ")":
                raise self.error("a power's parentheses are not closed")
            return value
        if token == "-":
            return -self.exponent()
        try:
            return Fraction(token)
        except ValueError:
            raise self.error(f"the power {token!r} is not a number") from None

    def atom(self) -> Dimension:
        token = self._take()
        if token == "(":
            inner = self.product()
            if self._take() != ")":
                raise self.error("parentheses are not closed")
            return inner
        if token == "1":
            return DIMENSIONLESS
        if token[0].isalpha() or token[0] == "_":
            return self.unit(token)
        raise self.error(f"unexpected {token!r}")

    def unit(self, name: str) -> Dimension:
        dimension = unit_dimension(name)
        if dimension is None:
            raise self.error(
                f"unknown unit {name!r}; known: {', '.join(BASE_UNITS)}, "
                f"{', '.join(DERIVED_UNITS)}, with SI prefixes (km, ns, uF)"
            )
        return dimension


def unit_dimension(name: str) -> Dimension | None:
    """Return the dimension of one unit name (prefixes allowed), or None."""
    if name in BASE_UNITS:
        exponents = [Fraction(0)] * len(BASE_UNITS)
        exponents[BASE_UNITS.index(name)] = Fraction(1)
        return Dimension(tuple(exponents))
    if name in DERIVED_UNITS:
        return parse_units(DERIVED_UNITS[name], name)
    for prefix in PREFIXES:
        rest = name[len(prefix) :]
        if name.startswith(prefix) and rest and rest != "kg":
            if rest == "g" or rest in BASE_UNITS or rest in DERIVED_UNITS:
                return unit_dimension(rest)
    return None


def formula_dimension(
    expression: sympy.Expr, dimensions: Mapping[sympy.Symbol, Dimension]
) -> Dimension | None:
    """Return the dimension of a formula, or None where it breaks a rule.

    Parameters
    ----------
    expression : sympy.Expr
        A formula over the symbols of ``dimensions``.
    dimensions : mapping
        The dimension of each symbol.

    Returns
    -------
    Dimension or None
        ``None`` when terms of a sum differ, a function's argument or a
        non-numeric power has a dimension, or a symbol has none given.
    """
    if isinstance(expression, sympy.Symbol):
        return dimensions.get(expression)
    if expression.is_number:
        return DIMENSIONLESS
    parts = [formula_dimension(arg, dimensions) for arg in expression.args]
    if any(part is None for part in parts):
        return None
    known = [part for part in parts if part is not None]
    return _combine(expression, known)


def _combine(expression: sympy.Expr, parts: Sequence[Dimension]) -> Dimension | None:
    """Return the dimension of one node from its arguments' dimensions."""
    if isinstance(expression, sympy.Mul):
        result = DIMENSIONLESS
        for part in parts:
            result = result * part
        return result
    if isinstance(expression, sympy.Add | sympy.Min | sympy.Max):
        return parts[0] if all(part == parts[0] for part in parts) else None
    if isinstance(expression, sympy.Pow):
        power = expression.exp
        if power.is_Rational:
            return parts[0] ** Fraction(int(power.p), int(power.q))
        if power.is_number and power.is_real:
            return parts[0] ** Fraction(float(power)).limit_denominator(1000)
        return DIMENSIONLESS if all(p.dimensionless for p in parts) else None
    if isinstance(expression, sympy.Abs | sympy.sign):
        return parts[0] if isinstance(expression, sympy.Abs) else DIMENSIONLESS
    return DIMENSIONLESS if all(p.dimensionless for p in parts) else None


@dataclass(frozen=True)
class Units:
    """The dimensions of one fit's inputs and of one target column.

    Attributes
    ----------
    inputs : dict
        The dimension of each feature symbol.
    target : Dimension
        The target column's dimension.
    """

    inputs: dict[sympy.Symbol, Dimension]
    target: Dimension

    def consistent(self, expressions: Sequence[sympy.Expr]) -> list[bool]:
        """Whether each formula's dimension is the target's."""
        return [formula_dimension(e, self.inputs) == self.target for e in expressions]


def fit_units(
    X_units: Sequence[str] | None,
    y_units: str | Sequence[str] | None,
    symbols: Sequence[sympy.Symbol],
    n_outputs: int,
) -> list[Units | None]:
    """Parse ``fit``'s unit strings: one :class:`Units` per target column.

    Parameters
    ----------
    X_units : sequence of str or None
        One unit string per feature.
    y_units : str, sequence of str or None
        The target's unit string; one per column for a target matrix.
    symbols : sequence of sympy.Symbol
        The feature symbols.
    n_outputs : int
        Target columns (1 for one-dimensional targets).

    Returns
    -------
    list of Units or None
        ``[None] * n_outputs`` when no units are given.

    Raises
    ------
    ValueError
        For a wrong count, a string that is not a unit (naming it), or only
        one of ``X_units`` and ``y_units``.
    """
    if X_units is None and y_units is None:
        return [None] * n_outputs
    if X_units is None or y_units is None:
        raise ValueError(
            "give both X_units and y_units: a formula's dimension is compared "
            "with the target's"
        )
    X_list = [X_units] if isinstance(X_units, str) else list(X_units)
    if len(X_list) != len(symbols):
        raise ValueError(
            f"X_units has {len(X_list)} entries for {len(symbols)} features"
        )
    y_list = [y_units] if isinstance(y_units, str) else list(y_units)
    if len(y_list) != n_outputs:
        raise ValueError(
            f"y_units has {len(y_list)} entries for {n_outputs} target columns"
        )
    inputs = {
        symbol: parse_units(text, f"X_units[{j}]")
        for j, (symbol, text) in enumerate(zip(symbols, X_list, strict=True))
    }
    where = "y_units" if isinstance(y_units, str) else "y_units[{}]"
    return [
        Units(inputs, parse_units(text, where.format(k)))
        for k, text in enumerate(y_list)
    ]

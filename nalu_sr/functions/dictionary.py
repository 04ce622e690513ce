"""The dictionary of candidate terms: primitives, arguments, factors, starts.

What the ranking (:mod:`nalu_sr.functions.ranking`) scores: every choice of
primitive, argument, starting scale and offset, and monomial factor.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from nalu_sr.functions.refine import free_slots
from nalu_sr.functions.terms import ONE, ZERO, Argument, Term
from nalu_sr.primitives import (
    BUILTIN_PRIMITIVES,
    Primitive,
    PrimitiveSet,
    resolve_primitives,
)

_PERIODIC_SCALES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, math.pi / 2, math.pi)
_MONOTONE_SCALES = (-2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 2.0)
_ODD_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: Primitives whose scale is absorbed by the head (``log(a*g) = log a + log g``).
_SCALE_FREE = frozenset({"log", "sqrt", "inv", "identity", "abs", "square", "cube"})
_SCALES = {"sin": _PERIODIC_SCALES, "cos": _PERIODIC_SCALES, "tanh": _ODD_SCALES}
#: Primitives the structure already provides (sums, products, powers).
_STRUCTURAL = frozenset({"add", "sub", "mul", "div", "neg", "square", "cube"})
_CUSTOM_OFFSETS = (-2.0, -1.0, 0.0, 1.0, 2.0)
_MAX_PAIR_FEATURES = 12
_MAX_PAIR_FACTOR_FEATURES = 6
_MAX_TRIPLE_FEATURES = 6
_MAX_TRIPLE_ARGUMENT_FEATURES = 4


@dataclass(frozen=True)
class Dictionary:
    """The choices one ranking scores.

    Attributes
    ----------
    primitives : tuple of Primitive
        Unary primitives the terms apply.
    arguments : tuple of Argument
        Arguments ``g``.
    factors : tuple of tuple of Fraction
        Exponents of the monomial factors ``P``, the constant factor first.
    monomials : tuple of tuple of Fraction
        Further monomials offered as plain terms only (products of three
        inputs), too many to multiply every function by.
    """

    primitives: tuple[Primitive, ...]
    arguments: tuple[Argument, ...]
    factors: tuple[tuple[Fraction, ...], ...]
    monomials: tuple[tuple[Fraction, ...], ...] = ()


def restricted(dictionary: Dictionary, feature: int) -> Dictionary:
    """Return the part of ``dictionary`` whose terms depend on ``feature`` alone."""

    def alone(exponents: Sequence[object]) -> bool:
        return all(e == 0 for i, e in enumerate(exponents) if i != feature)

    arguments = tuple(
        a for a in dictionary.arguments if alone(a.exponents or a.weights or ())
    )
    factors = tuple(f for f in dictionary.factors if alone(f))
    monomials = tuple(m for m in dictionary.monomials if alone(m))
    return Dictionary(dictionary.primitives, arguments, factors, monomials)


def build_dictionary(primitives: PrimitiveSet, X: np.ndarray) -> Dictionary:
    """Make the dictionary for ``X`` from the unary, non-structural primitives.

    Fractional powers are offered only for inputs positive in every row, so a
    term's formula and its values agree for every row.
    """
    positive = tuple(bool(v) for v in np.all(X > 0, axis=0))
    unary = tuple(p for p in primitives if p.arity == 1 and p.name not in _STRUCTURAL)
    if not any(p.name == "identity" for p in unary):
        # (x0 - x1)*x2 and (x1 - x2)**2 are products and powers of sums
        unary = (*unary, resolve_primitives(("identity",))[0])
    return Dictionary(
        unary, _arguments(positive), _factors(positive), _triples(len(positive))
    )


def _all_pairs(n: int, powers: Sequence[Fraction]) -> list[tuple[Fraction, ...]]:
    """Monomials of two inputs with both exponents from ``powers``."""
    rows = []
    for i, j in itertools.combinations(range(n), 2):
        for a, b in itertools.product(powers, repeat=2):
            row = [Fraction(0)] * n
            row[i], row[j] = a, b
            rows.append(tuple(row))
    return rows


def _triples(n: int) -> tuple[tuple[Fraction, ...], ...]:
    """Monomials of two or three inputs, exponents in {-2, -1, 1, 2}.

    Plain terms such as ``v**2/(c**2*m)``; those of three inputs with
    exponents in {-1, 1} are also function arguments, for up to
    :data:`_MAX_TRIPLE_ARGUMENT_FEATURES` inputs.
    """
    if n > _MAX_TRIPLE_FEATURES:
        return ()
    powers = (Fraction(-2), Fraction(-1), Fraction(1), Fraction(2))
    rows = list(_all_pairs(n, powers))
    for chosen in itertools.combinations(range(n), 3):
        for exponents in itertools.product(powers, repeat=3):
            row = [Fraction(0)] * n
            for i, e in zip(chosen, exponents, strict=True):
                row[i] = e
            rows.append(tuple(row))
    return tuple(rows)


def redundant(primitive: Primitive, argument: Argument) -> bool:
    """Whether ``primitive(argument)`` is another dictionary term in disguise.

    ``log(x**2)`` is ``2*log(x)`` and ``inv`` of a monomial is a monomial
    factor: keeping one form keeps formulas simple and the ranking free of
    ties. (``identity`` of a monomial is kept: with its offset it is the
    factored sum ``P*(g + b)``, as in ``(1 - v**2/c**2)/m**2``.)
    """
    name = primitive.name
    if argument.exponents is None:
        return name == "log" and argument.power != 1
    if name == "inv":
        return True
    if name in ("log", "sqrt"):
        nonzero = [e for e in argument.exponents if e != 0]
        return nonzero[0] < 0 or any(abs(e) != 1 for e in nonzero)
    return False


def term_complexity(term: Term) -> int:
    """Return a rough size of a term, to prefer the simpler of two equal fits."""
    size = sum(1 for e in term.factor if e != 0)
    if term.primitive is not None and term.argument is not None:
        argument = term.argument.exponents or term.argument.weights or ()
        size += 1 + sum(1 for e in argument if e != 0) + int(term.primitive.complexity)
    return size


def _unit(n: int, i: int, value: Fraction) -> list[Fraction]:
    row = [Fraction(0)] * n
    row[i] = value
    return row


def _single_powers(positive: Sequence[bool], powers: Sequence[Fraction]) -> list:
    n = len(positive)
    rows = []
    for i in range(n):
        for power in powers:
            if power.denominator == 1 or positive[i]:
                rows.append(tuple(_unit(n, i, power)))
    return rows


def _pairs(n: int, signs: Sequence[tuple[int, int]]) -> list[tuple[Fraction, ...]]:
    rows = []
    for i, j in itertools.combinations(range(n), 2):
        for a, b in signs:
            row = [Fraction(0)] * n
            row[i], row[j] = Fraction(a), Fraction(b)
            rows.append(tuple(row))
    return rows


def _arguments(positive: Sequence[bool]) -> tuple[Argument, ...]:
    n = len(positive)
    half = Fraction(1, 2)
    monomials = _single_powers(positive, (Fraction(1), Fraction(2), Fraction(-1), half))
    if n <= _MAX_PAIR_FEATURES:
        monomials += _pairs(n, ((1, 1), (1, -1), (-1, 1)))
    if n <= _MAX_PAIR_FACTOR_FEATURES:  # theta**2/sigma**2, x0**2*x1
        monomials += _pairs(n, ((2, -2), (-2, 2), (2, 2), (2, -1), (1, -2)))
    if n <= _MAX_TRIPLE_ARGUMENT_FEATURES:
        monomials += [
            row
            for row in _triples(n)
            if sum(e != 0 for e in row) == 3
            and all(abs(e) <= 1 for e in row)
            and sum(e > 0 for e in row) >= 1
        ]
    arguments = [Argument(exponents=row) for row in monomials]
    pairs = itertools.combinations(range(n), 2) if n <= _MAX_PAIR_FEATURES else ()
    for i, j in pairs:
        for sign in (1, -1):
            weights = [0] * n
            weights[i], weights[j] = 1, sign
            for power in (1, 2):
                arguments.append(Argument(weights=tuple(weights), power=power))
    return tuple(arguments)


def _factors(positive: Sequence[bool]) -> tuple[tuple[Fraction, ...], ...]:
    n = len(positive)
    powers = (Fraction(1), Fraction(-1), Fraction(2), Fraction(-2), Fraction(1, 2))
    factors = [tuple([Fraction(0)] * n), *_single_powers(positive, powers)]
    if n <= _MAX_PAIR_FACTOR_FEATURES:
        factors += _pairs(n, ((1, 1), (1, -1), (-1, 1), (2, -1), (1, -2)))
    return tuple(factors)


def scales_of(primitive: Primitive) -> tuple[float, ...]:
    """Inner scales tried for ``primitive`` before refinement."""
    if primitive.name in _SCALE_FREE:
        return (1.0,)
    return _SCALES.get(primitive.name, _MONOTONE_SCALES)


def starts_of(primitive: Primitive) -> list[tuple[sympy.Expr | float, ...]]:
    """Return the starting ``(scale, offset)`` pairs tried for ``primitive``.

    Fixed constants are exact (``1`` and ``0``). A custom primitive has no
    known symmetry, so it is also tried shifted: ``softplus(x - 3)`` needs an
    offset that a start at 0 may not reach.
    """
    scale_free, offset_free = free_slots(primitive)
    scales: tuple[sympy.Expr | float, ...] = (ONE,)
    if scale_free:
        scales = scales_of(primitive)
    offsets: tuple[sympy.Expr | float, ...] = (ZERO,)
    if offset_free:
        custom = primitive.name not in BUILTIN_PRIMITIVES.names
        offsets = _CUSTOM_OFFSETS if custom else (0.0,)
        if primitive.name == "identity":
            offsets = (-1.0, 0.0, 1.0)
    return [(scale, offset) for scale in scales for offset in offsets]

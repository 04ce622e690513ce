"""SymPy formulas compiled into a small program that any array library can run.

Every distinct sub-expression becomes one :class:`_Node`, in topological
order, so shared sub-expressions are computed once. Each ``sympy.Float`` is a
``"param"`` node (a trainable constant in the torch and JAX exports); exact
numbers (integers, rationals, ``pi``, ``E``) are ``"const"`` nodes. The
program holds only names, indices and numbers, so it pickles.
The torch export (:mod:`nalu_sr.export.torch`) and the JAX export
(:mod:`nalu_sr.export.jax`) each map the operation names to their library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import sympy


class _Node(NamedTuple):
    """One step of the program: an operation on earlier steps' values.

    ``op`` names the operation, ``args`` are indices of earlier nodes and
    ``value`` is the column, parameter or constant index, the integer or
    rational exponent, or the truth value, depending on ``op``.
    """

    op: str
    args: tuple[int, ...] = ()
    value: float | int | bool | None = None


#: SymPy classes evaluated elementwise, by the name used in the program.
_ELEMENTWISE: Mapping[type, str] = {
    sympy.Add: "add", sympy.Mul: "mul", sympy.exp: "exp", sympy.log: "log",
    sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan", sympy.tanh: "tanh",
    sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.Abs: "abs",
    sympy.sign: "sign", sympy.Max: "max", sympy.Min: "min",
    sympy.StrictGreaterThan: "gt", sympy.GreaterThan: "ge",
    sympy.StrictLessThan: "lt", sympy.LessThan: "le",
    sympy.Equality: "eq", sympy.Unequality: "ne",
    sympy.And: "and", sympy.Or: "or", sympy.Not: "not",
}  # fmt: skip

#: Exact constants that are not ``Rational``, with their float values. SymPy's
#: complex infinity ``zoo`` (from ``1/0``) has no real value: NaN, as lambdify's
#: NumPy printing and :func:`nalu_sr.extraction.evaluate_sympy` give it.
_SPECIAL_CONSTANTS: tuple[tuple[sympy.Expr, float], ...] = (
    (sympy.oo, float("inf")),
    (-sympy.oo, float("-inf")),
    (sympy.nan, float("nan")),
    (sympy.zoo, float("nan")),
)


class _Compiler:
    """Turn SymPy expressions into a memoized program of :class:`_Node`."""

    def __init__(self, symbols: Sequence[sympy.Symbol], target: str) -> None:
        self.target = target
        self.columns = {symbol: index for index, symbol in enumerate(symbols)}
        self.nodes: list[_Node] = []
        self.floats: list[sympy.Float] = []
        self.constants: list[float] = []
        self.memo: dict[sympy.Basic, int] = {}

    def compile(self, expression: sympy.Basic) -> int:
        """Return the index of the node computing ``expression``."""
        if expression not in self.memo:
            node = self._node(expression)
            self.nodes.append(node)
            self.memo[expression] = len(self.nodes) - 1
        return self.memo[expression]

    def _constant(self, value: float) -> _Node:
        """Node of an exact (non-trainable) constant."""
        self.constants.append(value)
        return _Node("const", value=len(self.constants) - 1)

    def _node(self, expression: sympy.Basic) -> _Node:
        """Build the node for ``expression``, compiling its arguments first."""
        if isinstance(expression, sympy.Symbol):
            return self._symbol(expression)
        if isinstance(expression, sympy.Float):
            self.floats.append(expression)
            return _Node("param", value=len(self.floats) - 1)
        if isinstance(expression, sympy.Rational | sympy.NumberSymbol):
            return self._constant(float(expression))
        for constant, value in _SPECIAL_CONSTANTS:
            if expression == constant:
                return self._constant(value)
        if expression in (sympy.true, sympy.false):
            return _Node("bool", value=bool(expression))
        if isinstance(expression, sympy.Pow):
            return self._pow(expression)
        if isinstance(expression, sympy.Piecewise):
            pieces = (part for pair in expression.args for part in pair.args)
            return _Node("piecewise", tuple(self.compile(part) for part in pieces))
        if isinstance(expression, sympy.AccumBounds):
            raise ValueError(self._interval_message(expression))
        op = _ELEMENTWISE.get(type(expression))
        if op is None:
            raise ValueError(
                f"cannot convert SymPy node {type(expression).__name__!r} "
                f"to {self.target}: unsupported (in {expression})"
            )
        return _Node(op, tuple(self.compile(arg) for arg in expression.args))

    def _interval_message(self, bounds: sympy.AccumBounds) -> str:
        """Why an ``AccumBounds`` node cannot be converted."""
        # SymPy writes sin(oo) and the like as the interval of values the
        # function keeps taking: a set, not one number, so there is nothing
        # to evaluate (NaN would hide that the formula itself is degenerate).
        return (
            f"cannot convert SymPy node 'AccumulationBounds' to {self.target}: "
            f"{bounds} is an interval of values, not a number (SymPy builds one "
            f"for a function such as sin of an infinite argument)"
        )

    def _symbol(self, symbol: sympy.Symbol) -> _Node:
        """Build the node reading the input column of ``symbol``."""
        if symbol not in self.columns:
            raise ValueError(
                f"symbol {symbol} is not among the module's symbols "
                f"{tuple(self.columns)}"
            )
        return _Node("input", value=self.columns[symbol])

    def _pow(self, expression: sympy.Pow) -> _Node:
        """Build a power node: integer, square root, rational or general."""
        base, exponent = expression.args
        if isinstance(exponent, sympy.Integer):
            return _Node("pow_int", (self.compile(base),), int(exponent))
        if exponent == sympy.S.Half:
            return _Node("sqrt", (self.compile(base),))
        if isinstance(exponent, sympy.Rational):
            return _Node("pow_const", (self.compile(base),), float(exponent))
        return _Node("pow", (self.compile(base), self.compile(exponent)))

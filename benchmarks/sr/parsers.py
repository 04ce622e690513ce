"""Turn each peer tool's model string into a SymPy expression over ``x0, x1, ...``.

Every parser uses an explicit dictionary of names: the tool's variable names
mapped to our symbols, its operators to SymPy functions. Nothing is left to
``sympify``'s guesses, so a name such as ``I`` or ``gamma`` can never become a
SymPy constant or function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import parse_expr


def feature_symbols(n_features: int) -> list[sympy.Symbol]:
    """The real symbols ``x0 .. x{n-1}`` every adapter returns formulas over."""
    return [sympy.Symbol(f"x{i}", real=True) for i in range(n_features)]


#: What ``parse_expr``'s own rewrites of numbers and names need, and no more:
#: any other name becomes an unknown symbol instead of a SymPy object.
_PARSER_GLOBALS: dict[str, Any] = {
    "Integer": sympy.Integer,
    "Float": sympy.Float,
    "Rational": sympy.Rational,
    "Symbol": sympy.Symbol,
    "Function": sympy.Function,
}


def _parse(text: str, names: dict[str, Any]) -> sympy.Expr:
    """Parse ``text`` where ``names`` are the only known names."""
    expr = parse_expr(text, local_dict=names, global_dict=dict(_PARSER_GLOBALS))
    known = {v for v in names.values() if isinstance(v, sympy.Symbol)}
    unknown = {str(s) for s in expr.free_symbols - known}
    unknown |= {str(f.func) for f in expr.atoms(AppliedUndef)}
    if unknown:
        raise ValueError(f"unknown names {sorted(unknown)} in {text[:200]!r}")
    return expr


def _protected(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A gplearn protected function: applied to the absolute value."""
    return lambda a: function(sympy.Abs(a))


#: gplearn's functions. Its protected versions guard against tiny or negative
#: arguments: ``div`` returns 1 and ``inv`` 0 when |denominator| < 0.001, ``log``
#: is log|x| (0 near 0) and ``sqrt`` is sqrt|x|. The absolute values are kept
#: (on positive variables SymPy drops them itself); the 0.001 guards are not,
#: as in SRBench.
GPLEARN_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "inv": lambda a: 1 / a,
    "sqrt": _protected(sympy.sqrt),
    "log": _protected(sympy.log),
    "abs": sympy.Abs,
    "max": sympy.Max,
    "min": sympy.Min,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
}


def parse_gplearn(program: str, n_features: int) -> sympy.Expr:
    """A gplearn program (``str(est._program)``, prefix form over ``X0..``)."""
    symbols = feature_symbols(n_features)
    names: dict[str, Any] = {f"X{i}": s for i, s in enumerate(symbols)}
    names.update(GPLEARN_FUNCTIONS)
    return _parse(program, names)


#: Operon's functions for the symbols we allow it (plain, unprotected).
OPERON_FUNCTIONS: dict[str, Any] = {
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "abs": sympy.Abs,
    "nan": sympy.nan,
    "inf": sympy.oo,
}


def parse_operon(text: str, n_features: int) -> sympy.Expr:
    """A pyoperon infix model string (variables ``X1..Xn``, 1-based)."""
    symbols = feature_symbols(n_features)
    names: dict[str, Any] = {f"X{i + 1}": s for i, s in enumerate(symbols)}
    names.update(OPERON_FUNCTIONS)
    return _parse(text.replace("^", "**"), names)


#: FFX's basis functions: hinges ``max(0, x - t)``, ``log10`` and ``abs``.
FFX_FUNCTIONS: dict[str, Any] = {
    "max": sympy.Max,
    "min": sympy.Min,
    "abs": sympy.Abs,
    "log10": lambda a: sympy.log(a, 10),
}


def parse_ffx(text: str, n_features: int) -> sympy.Expr:
    """An FFX model string (``model_.str2()``, variables ``X0..``, ``^`` for powers)."""
    symbols = feature_symbols(n_features)
    names: dict[str, Any] = {f"X{i}": s for i, s in enumerate(symbols)}
    names.update(FFX_FUNCTIONS)
    return _parse(text.replace("^", "**"), names)


def rename_symbols(expr: sympy.Expr, n_features: int) -> sympy.Expr:
    """``expr`` with any symbol named ``x{i}`` replaced by our ``x{i}``.

    For tools (PySR, NALURegressor) that already return SymPy, possibly with
    other assumptions on their symbols.
    """
    ours = {s.name: s for s in feature_symbols(n_features)}
    return expr.xreplace({s: ours[s.name] for s in expr.free_symbols if s.name in ours})

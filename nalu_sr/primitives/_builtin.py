"""The built-in primitives, as a table.

Each has an exact torch function, an exact SymPy function and, where the exact
function can produce non-finite values or gradients, a protected version used
in training. Where torch, SymPy or :mod:`operator` has the function it is used
directly; the rest are module-level functions here. Either way every function
pickles by reference.
"""

from __future__ import annotations

import operator

import sympy
import torch

from nalu_sr.primitives._primitive import (
    Primitive,
    PrimitiveSet,
    SympyFunction,
    TorchFunction,
)

#: Smallest magnitude a protected denominator or logarithm argument may take.
PROTECTION_EPS = 1e-3
#: Largest argument the protected exponential passes on unchanged.
MAX_EXP_ARGUMENT = 20.0
_MAX_POWER_ARGUMENT = 1e6


def _away_from_zero(x: torch.Tensor) -> torch.Tensor:
    """Move values within ``PROTECTION_EPS`` of zero out to +-``PROTECTION_EPS``."""
    sign = torch.where(x < 0, -torch.ones_like(x), torch.ones_like(x))
    return sign * torch.clamp(torch.abs(x), min=PROTECTION_EPS)


def _safe_div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a / _away_from_zero(b)


def _safe_inv(x: torch.Tensor) -> torch.Tensor:
    return 1.0 / _away_from_zero(x)


def _clamp_power_argument(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, -_MAX_POWER_ARGUMENT, _MAX_POWER_ARGUMENT)


def _safe_square(x: torch.Tensor) -> torch.Tensor:
    clamped = _clamp_power_argument(x)
    return clamped * clamped


def _cube(x: torch.Tensor) -> torch.Tensor:
    # Not torch.pow(x, 3): its gradient rounds differently from x * x * x.
    return x * x * x


def _safe_cube(x: torch.Tensor) -> torch.Tensor:
    clamped = _clamp_power_argument(x)
    return clamped * clamped * clamped


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    # sqrt(|x|) keeps a useful gradient sign on both sides; the floor keeps
    # the derivative 1/(2 sqrt(x)) finite at zero.
    return torch.sqrt(torch.clamp(torch.abs(x), min=PROTECTION_EPS**2))


def _safe_exp(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(torch.clamp(x, max=MAX_EXP_ARGUMENT))


def _safe_log(x: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.clamp(torch.abs(x), min=PROTECTION_EPS))


# SymPy has no function object for these three forms.
def _sympy_inv(x: sympy.Expr) -> sympy.Expr:
    return 1 / x


def _sympy_square(x: sympy.Expr) -> sympy.Expr:
    return x**2


def _sympy_cube(x: sympy.Expr) -> sympy.Expr:
    return x**3


#: One row per built-in, in the order of ``BUILTIN_PRIMITIVES``: the fields of
#: :class:`Primitive` (name, arity, exact torch function, SymPy function,
#: training-safe torch function or ``None`` where the exact one is safe,
#: complexity). ``operator.pos`` is the identity: unary plus returns a tensor
#: or a SymPy expression itself.
_TABLE: tuple[
    tuple[str, int, TorchFunction, SympyFunction, TorchFunction | None, float], ...
] = (
    ("identity", 1, operator.pos, operator.pos, None, 0.0),
    ("neg", 1, operator.neg, operator.neg, None, 1.0),
    ("add", 2, operator.add, operator.add, None, 1.0),
    ("sub", 2, operator.sub, operator.sub, None, 1.0),
    ("mul", 2, operator.mul, operator.mul, None, 1.0),
    ("div", 2, operator.truediv, operator.truediv, _safe_div, 2.0),
    ("inv", 1, torch.reciprocal, _sympy_inv, _safe_inv, 2.0),
    ("square", 1, torch.square, _sympy_square, _safe_square, 2.0),
    ("cube", 1, _cube, _sympy_cube, _safe_cube, 3.0),
    ("sqrt", 1, torch.sqrt, sympy.sqrt, _safe_sqrt, 2.0),
    ("exp", 1, torch.exp, sympy.exp, _safe_exp, 3.0),
    ("log", 1, torch.log, sympy.log, _safe_log, 3.0),
    ("sin", 1, torch.sin, sympy.sin, None, 3.0),
    ("cos", 1, torch.cos, sympy.cos, None, 3.0),
    ("tanh", 1, torch.tanh, sympy.tanh, None, 3.0),
    ("abs", 1, torch.abs, sympy.Abs, None, 2.0),
)

#: Every built-in primitive, looked up by name.
BUILTIN_PRIMITIVES = PrimitiveSet(Primitive(*row) for row in _TABLE)

#: Names of the default arithmetic set: the four operations and their helpers.
ARITHMETIC_PRIMITIVES: tuple[str, ...] = (
    "identity", "neg", "add", "sub", "mul", "div", "square", "sqrt", "inv",
)  # fmt: skip

#: Names of the default set: the arithmetic set and the elementary functions
#: the ``"functions"`` family applies (exp, log, sin, cos, tanh; sqrt and inv
#: are arithmetic members).
DEFAULT_PRIMITIVES: tuple[str, ...] = (
    *ARITHMETIC_PRIMITIVES, "exp", "log", "sin", "cos", "tanh",
)  # fmt: skip

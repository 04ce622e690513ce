"""The built-in primitives.

Each has an exact torch function, an exact SymPy function and, where the exact
function can produce non-finite values or gradients, a protected version used
in training. All are module-level functions so that they pickle by reference.
"""

from __future__ import annotations

import sympy
import torch

from nalu_sr.primitives._primitive import Primitive, PrimitiveSet

#: Smallest magnitude a protected denominator or logarithm argument may take.
PROTECTION_EPS = 1e-3
#: Largest argument the protected exponential passes on unchanged.
MAX_EXP_ARGUMENT = 20.0
_MAX_POWER_ARGUMENT = 1e6


def _away_from_zero(x: torch.Tensor) -> torch.Tensor:
    """Move values within ``PROTECTION_EPS`` of zero out to +-``PROTECTION_EPS``."""
    sign = torch.where(x < 0, -torch.ones_like(x), torch.ones_like(x))
    return sign * torch.clamp(torch.abs(x), min=PROTECTION_EPS)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _neg(x: torch.Tensor) -> torch.Tensor:
    return -x


def _add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a + b


def _sub(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a - b


def _mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a * b


def _div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a / b


def _safe_div(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a / _away_from_zero(b)


def _inv(x: torch.Tensor) -> torch.Tensor:
    return 1.0 / x


def _safe_inv(x: torch.Tensor) -> torch.Tensor:
    return 1.0 / _away_from_zero(x)


def _square(x: torch.Tensor) -> torch.Tensor:
    return x * x


def _safe_square(x: torch.Tensor) -> torch.Tensor:
    clamped = torch.clamp(x, -_MAX_POWER_ARGUMENT, _MAX_POWER_ARGUMENT)
    return clamped * clamped


def _cube(x: torch.Tensor) -> torch.Tensor:
    return x * x * x


def _safe_cube(x: torch.Tensor) -> torch.Tensor:
    clamped = torch.clamp(x, -_MAX_POWER_ARGUMENT, _MAX_POWER_ARGUMENT)
    return clamped * clamped * clamped


def _sqrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x)


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    # sqrt(|x|) keeps a useful gradient sign on both sides; the floor keeps
    # the derivative 1/(2 sqrt(x)) finite at zero.
    return torch.sqrt(torch.clamp(torch.abs(x), min=PROTECTION_EPS**2))


def _exp(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x)


def _safe_exp(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(torch.clamp(x, max=MAX_EXP_ARGUMENT))


def _log(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x)


def _safe_log(x: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.clamp(torch.abs(x), min=PROTECTION_EPS))


def _sin(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(x)


def _cos(x: torch.Tensor) -> torch.Tensor:
    return torch.cos(x)


def _tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x)


def _abs(x: torch.Tensor) -> torch.Tensor:
    return torch.abs(x)


def _sympy_identity(x: sympy.Expr) -> sympy.Expr:
    return x


def _sympy_neg(x: sympy.Expr) -> sympy.Expr:
    return -x


def _sympy_add(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    return a + b


def _sympy_sub(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    return a - b


def _sympy_mul(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    return a * b


def _sympy_div(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    return a / b


def _sympy_inv(x: sympy.Expr) -> sympy.Expr:
    return 1 / x


def _sympy_square(x: sympy.Expr) -> sympy.Expr:
    return x**2


def _sympy_cube(x: sympy.Expr) -> sympy.Expr:
    return x**3


def _sympy_sqrt(x: sympy.Expr) -> sympy.Expr:
    return sympy.sqrt(x)


def _sympy_exp(x: sympy.Expr) -> sympy.Expr:
    return sympy.exp(x)


def _sympy_log(x: sympy.Expr) -> sympy.Expr:
    return sympy.log(x)


def _sympy_sin(x: sympy.Expr) -> sympy.Expr:
    return sympy.sin(x)


def _sympy_cos(x: sympy.Expr) -> sympy.Expr:
    return sympy.cos(x)


def _sympy_tanh(x: sympy.Expr) -> sympy.Expr:
    return sympy.tanh(x)


def _sympy_abs(x: sympy.Expr) -> sympy.Expr:
    return sympy.Abs(x)


IDENTITY = Primitive("identity", 1, _identity, _sympy_identity, complexity=0.0)
NEG = Primitive("neg", 1, _neg, _sympy_neg, complexity=1.0)
ADD = Primitive("add", 2, _add, _sympy_add, complexity=1.0)
SUB = Primitive("sub", 2, _sub, _sympy_sub, complexity=1.0)
MUL = Primitive("mul", 2, _mul, _sympy_mul, complexity=1.0)
DIV = Primitive("div", 2, _div, _sympy_div, _safe_div, complexity=2.0)
INV = Primitive("inv", 1, _inv, _sympy_inv, _safe_inv, complexity=2.0)
SQUARE = Primitive("square", 1, _square, _sympy_square, _safe_square, complexity=2.0)
CUBE = Primitive("cube", 1, _cube, _sympy_cube, _safe_cube, complexity=3.0)
SQRT = Primitive("sqrt", 1, _sqrt, _sympy_sqrt, _safe_sqrt, complexity=2.0)
EXP = Primitive("exp", 1, _exp, _sympy_exp, _safe_exp, complexity=3.0)
LOG = Primitive("log", 1, _log, _sympy_log, _safe_log, complexity=3.0)
SIN = Primitive("sin", 1, _sin, _sympy_sin, complexity=3.0)
COS = Primitive("cos", 1, _cos, _sympy_cos, complexity=3.0)
TANH = Primitive("tanh", 1, _tanh, _sympy_tanh, complexity=3.0)
ABS = Primitive("abs", 1, _abs, _sympy_abs, complexity=2.0)

#: Every built-in primitive, looked up by name.
BUILTIN_PRIMITIVES = PrimitiveSet(
    [
        IDENTITY, NEG, ADD, SUB, MUL, DIV, INV, SQUARE, CUBE, SQRT,
        EXP, LOG, SIN, COS, TANH, ABS,
    ]
)  # fmt: skip

#: Names of the default arithmetic set: the four operations and their helpers.
ARITHMETIC_PRIMITIVES: tuple[str, ...] = (
    "identity", "neg", "add", "sub", "mul", "div", "square", "sqrt", "inv",
)  # fmt: skip

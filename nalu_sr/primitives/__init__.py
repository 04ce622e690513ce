"""Primitive functions the arithmetic units attend over.

A :class:`Primitive` holds one function's exact torch version, training-safe
torch version, exact SymPy version and complexity. Custom primitives are made
with :func:`make_primitive`, which checks them; there is no global registry,
so custom primitives travel as parameters.
"""

from nalu_sr.primitives._builtin import (
    ARITHMETIC_PRIMITIVES,
    BUILTIN_PRIMITIVES,
    DEFAULT_PRIMITIVES,
)
from nalu_sr.primitives._checks import (
    check_primitive,
    make_primitive,
    resolve_primitives,
)
from nalu_sr.primitives._primitive import Primitive, PrimitiveSet

__all__ = [
    "ARITHMETIC_PRIMITIVES",
    "BUILTIN_PRIMITIVES",
    "DEFAULT_PRIMITIVES",
    "Primitive",
    "PrimitiveSet",
    "check_primitive",
    "make_primitive",
    "resolve_primitives",
]

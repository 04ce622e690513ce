"""Exports of fitted formulas to other forms."""

from nalu_sr.export.jax import JaxExpression, sympy_to_jax
from nalu_sr.export.numpy import CallableExpression
from nalu_sr.export.text import sympy_to_latex, sympy_to_string
from nalu_sr.export.torch import SympyModule, sympy_to_torch

__all__ = [
    "CallableExpression",
    "JaxExpression",
    "SympyModule",
    "sympy_to_jax",
    "sympy_to_latex",
    "sympy_to_string",
    "sympy_to_torch",
]

"""Exports of fitted formulas to other forms."""

from nalu_sr.export.numpy import CallableExpression
from nalu_sr.export.text import sympy_to_latex, sympy_to_string
from nalu_sr.export.torch import SympyModule, sympy_to_torch

__all__ = [
    "CallableExpression",
    "SympyModule",
    "sympy_to_latex",
    "sympy_to_string",
    "sympy_to_torch",
]

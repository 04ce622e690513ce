"""nalu_sr: symbolic regression with neural arithmetic units.

Arithmetic units (NAC, NALU, NAU, NMU, NPU, RealNPU) and attention over a
user-extensible set of primitive functions are trained on data, then snapped
to exact weights and read off as SymPy formulas.
"""

from nalu_sr._version import __version__
from nalu_sr.architectures import ARCHITECTURES
from nalu_sr.estimator import NALURegressor
from nalu_sr.exceptions import (
    InsufficientDataWarning,
    ModelFileError,
    NaluSRError,
    PoorFitWarning,
    PrimitiveError,
    UnknownPrimitiveError,
)
from nalu_sr.model import StackedModel, compose_sympy
from nalu_sr.primitives import (
    ARITHMETIC_PRIMITIVES,
    BUILTIN_PRIMITIVES,
    DEFAULT_PRIMITIVES,
    Primitive,
    PrimitiveSet,
    make_primitive,
)
from nalu_sr.units import (
    NAC,
    NALU,
    NAU,
    NMU,
    NPU,
    UNITS,
    ArithmeticUnit,
    PrimitiveAttention,
    RealNPU,
    SnappedUnit,
)

__all__ = [
    "ARCHITECTURES",
    "ARITHMETIC_PRIMITIVES",
    "BUILTIN_PRIMITIVES",
    "DEFAULT_PRIMITIVES",
    "NAC",
    "NALU",
    "NAU",
    "NMU",
    "NPU",
    "UNITS",
    "ArithmeticUnit",
    "InsufficientDataWarning",
    "ModelFileError",
    "NALURegressor",
    "NaluSRError",
    "PoorFitWarning",
    "Primitive",
    "PrimitiveAttention",
    "PrimitiveError",
    "PrimitiveSet",
    "RealNPU",
    "SnappedUnit",
    "StackedModel",
    "UnknownPrimitiveError",
    "__version__",
    "compose_sympy",
    "make_primitive",
]

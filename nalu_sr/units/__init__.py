"""Arithmetic units: torch modules that learn exact arithmetic.

Every unit is an :class:`ArithmeticUnit` with the same contract:
``reset_parameters(generator)``, ``penalty()``, ``discreteness_error()``,
``constrain_()`` and ``snap()``, which returns a :class:`SnappedUnit` record of
the unit's discrete meaning. Units work on their own in any network.
"""

from types import MappingProxyType

from nalu_sr.units._base import ArithmeticUnit
from nalu_sr.units.attention import PrimitiveAttention
from nalu_sr.units.nac import NAC
from nalu_sr.units.nalu import NALU
from nalu_sr.units.nau import NAU
from nalu_sr.units.nmu import NMU
from nalu_sr.units.npu import NPU, RealNPU
from nalu_sr.units.snapped import (
    LinearCombination,
    LinearOutput,
    PrimitiveOutput,
    ProductOutput,
    SnappedOutput,
    SnappedUnit,
)

#: Unit classes by lowercase registry name.
UNITS: MappingProxyType[str, type[ArithmeticUnit]] = MappingProxyType(
    {
        unit.kind: unit
        for unit in (NAC, NALU, NAU, NMU, NPU, RealNPU, PrimitiveAttention)
    }
)

__all__ = [
    "NAC",
    "NALU",
    "NAU",
    "NMU",
    "NPU",
    "UNITS",
    "ArithmeticUnit",
    "LinearCombination",
    "LinearOutput",
    "PrimitiveAttention",
    "PrimitiveOutput",
    "ProductOutput",
    "RealNPU",
    "SnappedOutput",
    "SnappedUnit",
]

from fractions import Fraction

import pytest

from nalu_sr.primitives import BUILTIN_PRIMITIVES, Primitive
from nalu_sr.units import (
    LinearCombination,
    LinearOutput,
    PrimitiveOutput,
    ProductOutput,
    SnappedUnit,
)

ONE, ZERO, MINUS = Fraction(1), Fraction(0), Fraction(-1)
SIN = BUILTIN_PRIMITIVES.get("sin")


def _linear(*coefficients, offset=ZERO):
    return LinearOutput(LinearCombination(tuple(coefficients), offset))


@pytest.fixture
def shared_records():
    """Build [sin(x0 - x1), x2] -> [u0 * u1, u0 + u1 + 1]: u0 feeds both outputs."""

    def make(sin: Primitive = SIN) -> list[SnappedUnit]:
        first = SnappedUnit(
            "attention",
            3,
            (
                PrimitiveOutput(sin, (LinearCombination((ONE, MINUS, ZERO)),)),
                _linear(ZERO, ZERO, ONE),
            ),
            0.0,
        )
        second = SnappedUnit(
            "mixed", 2, (ProductOutput((ONE, ONE)), _linear(ONE, ONE, offset=ONE)), 0.0
        )
        return [first, second]

    return make

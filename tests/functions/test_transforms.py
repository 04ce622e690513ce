import numpy as np
import pytest
import sympy

from nalu_sr.functions.transforms import target_transforms

NAMES = ("identity", "inverse", "log", "square", "inverse_square")


def _names(y):
    return [t.name for t in target_transforms(np.asarray(y, dtype=float), NAMES)]


def test_transforms_apply_only_where_defined():
    assert _names([1.0, 2.0, 3.0]) == [*NAMES]
    assert _names([-1.0, -2.0]) == [*NAMES]
    assert _names([-1.0, 2.0]) == ["identity", "inverse"]
    assert _names([0.0, 2.0]) == ["identity"]
    assert _names([1e-6, 2.0]) == ["identity", "log", "square"]


@pytest.mark.parametrize("y", [[0.5, 2.0, 7.0], [-0.5, -2.0, -7.0]])
def test_inverses_undo_the_transforms_numerically_and_symbolically(y):
    y = np.asarray(y)
    z = sympy.Symbol("z")
    for transform in target_transforms(y, NAMES):
        np.testing.assert_allclose(transform.inverse(transform.forward(y)), y)
        formula = sympy.lambdify(z, transform.inverse_sympy(z))
        np.testing.assert_allclose(formula(transform.forward(y)), y)

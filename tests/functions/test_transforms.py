import numpy as np
import pytest
import sympy

from nalu_sr.functions.transforms import (
    effective_share,
    noise_weights,
    target_transforms,
    tempered_weights,
)

NAMES = ("identity", "inverse", "log", "square", "inverse_square")


def _names(y):
    return [t.name for t in target_transforms(np.asarray(y, dtype=float), NAMES)]


def test_transforms_apply_only_where_defined():
    assert _names([1.0, 2.0, 3.0]) == [*NAMES]
    assert _names([-1.0, -2.0]) == [*NAMES]
    assert _names([-1.0, 2.0]) == ["identity", "inverse"]
    assert _names([0.0, 2.0]) == ["identity", "square"]
    assert _names([1e-6, 2.0]) == ["identity", "log", "square"]


def test_a_target_crossing_zero_by_noise_alone_is_still_squared():
    # A distance near zero under noise: a few values just below zero.
    y = np.array([-0.001, 0.002, 1.0, 2.0, 3.0])
    assert _names(y) == ["identity", "square"]
    (square,) = target_transforms(y, ("square",))
    np.testing.assert_allclose(square.inverse(square.forward(y[2:])), y[2:])
    assert _names([-0.5, 1.0, 2.0, 3.0]) == ["identity", "inverse"]
    weights = noise_weights(square, y)
    assert weights is not None and np.all(np.isfinite(weights))
    assert weights[0] == weights[1] == weights.max()


@pytest.mark.parametrize("y", [[0.5, 2.0, 7.0], [-0.5, -2.0, -7.0]])
def test_inverses_undo_the_transforms_numerically_and_symbolically(y):
    y = np.asarray(y)
    z = sympy.Symbol("z")
    for transform in target_transforms(y, NAMES):
        np.testing.assert_allclose(transform.inverse(transform.forward(y)), y)
        formula = sympy.lambdify(z, transform.inverse_sympy(z))
        np.testing.assert_allclose(formula(transform.forward(y)), y)


def _transform(name, y):
    (transform,) = target_transforms(np.asarray(y, dtype=float), (name,))
    return transform


def test_noise_weights_undo_the_slope_of_each_transform():
    y = np.array([0.5, 1.0, 2.0, 4.0])
    assert noise_weights(_transform("identity", y), y) is None
    expected = {"inverse": y**4, "log": y**2, "square": y**-2, "inverse_square": y**6}
    # (none of these y is near enough to zero for the floor of the square's slope)
    for name, inverse_variance in expected.items():
        weights = noise_weights(_transform(name, y), y)
        np.testing.assert_allclose(weights, inverse_variance / inverse_variance.mean())


def test_noise_weights_multiply_the_rows_own_weights():
    y = np.array([1.0, 2.0, 3.0])
    own = np.array([1.0, 0.5, 2.0])
    transform = _transform("inverse", y)
    np.testing.assert_allclose(
        noise_weights(transform, y, own), noise_weights(transform, y) * own
    )
    assert noise_weights(_transform("identity", y), y, own) is own


def _fit_inverse(y, H, weights):
    """Least-squares coefficients of 1/y on the columns of H, optionally weighted."""
    root = np.ones(len(y)) if weights is None else np.sqrt(weights)
    coefficients, *_ = np.linalg.lstsq(H * root[:, None], root / y, rcond=None)
    return coefficients


def test_weighted_fit_of_the_inverse_estimates_the_law_of_a_noisy_target():
    # y = 1 / (2*x + 2) with noise of 1% of RMS(y): on 1/y the rows with small y
    # carry most of the noise and an unweighted fit of 1/y misses the constants
    # by several percent (too far to snap); weighted as the noise on y, it
    # lands within 0.5%.
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 30, 2000)
    clean = 1 / (2 * x + 2)
    y = clean + rng.normal(0, 0.01 * np.sqrt(np.mean(clean**2)), len(x))
    H = np.column_stack([x, np.ones_like(x)])
    plain = _fit_inverse(y, H, None)
    weighted = _fit_inverse(y, H, noise_weights(_transform("inverse", y), y))
    assert np.max(np.abs(plain - 2)) > 0.02
    assert np.max(np.abs(weighted - 2)) < 0.005


def test_effective_share_counts_the_rows_that_hold_the_weight():
    assert effective_share(np.ones(8)) == 1.0
    assert effective_share(np.array([1.0, 1.0, 0.0, 0.0])) == 0.5
    # (1 + 3)**2 / (1 + 9) / 2 = 0.8
    assert effective_share(np.array([1.0, 3.0])) == pytest.approx(0.8)


def test_tempered_weights_keep_half_the_rows_and_the_weights_order():
    y = np.geomspace(0.05, 25.0, 400)  # a ratio of inputs spans decades
    weights = noise_weights(_transform("inverse", y), y)
    assert effective_share(weights) < 0.1
    tempered = tempered_weights(weights)
    assert effective_share(tempered) == pytest.approx(0.5, abs=1e-6)
    assert np.all(np.diff(tempered) > 0)  # y**4 grows with y, and so must they
    assert tempered.mean() == pytest.approx(1.0)


def test_tempered_weights_leave_weights_that_already_keep_the_rows():
    weights = np.array([1.0, 1.2, 0.8])
    assert tempered_weights(weights) is weights
    assert tempered_weights(None) is None

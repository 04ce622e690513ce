"""nalu_sr._lack_of_fit: neighbouring residuals, noise against smooth error."""

import numpy as np
import pytest

from nalu_sr._lack_of_fit import (
    MAX_NEIGHBOUR_CORRELATION,
    neighbour_correlation,
    residuals_are_noise,
)


@pytest.mark.parametrize("n_features", [1, 2, 4])
def test_noise_is_noise_and_a_smooth_error_is_not(n_features):
    rng = np.random.default_rng(n_features)
    X = rng.uniform(-2, 2, size=(1000, n_features))
    assert residuals_are_noise(X, rng.standard_normal(1000))
    smooth = (X**2).sum(axis=1)
    assert neighbour_correlation(X, smooth) > 0.8
    assert not residuals_are_noise(X, smooth)


def test_a_column_scale_does_not_matter():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(500, 2))
    error = np.sin(5 * X[:, 0]) + X[:, 1]
    scaled = X * [1e-6, 1e6]
    assert neighbour_correlation(scaled, error) == pytest.approx(
        neighbour_correlation(X, error)
    )


def test_undefined_cases_pass_and_non_finite_residuals_fail():
    X = np.ones((50, 2))  # no varying column
    assert neighbour_correlation(X, np.arange(50.0)) == 0.0
    assert neighbour_correlation(np.arange(10.0)[:, None], np.arange(10.0)) == 0.0
    X = np.linspace(0, 1, 50)[:, None]
    assert neighbour_correlation(X, np.zeros(50)) == 0.0
    assert not residuals_are_noise(X, np.full(50, np.nan))
    assert 0 < MAX_NEIGHBOUR_CORRELATION < 1

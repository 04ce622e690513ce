import math

import numpy as np
import pytest
import torch

from nalu_sr.linalg import (
    error_scale,
    least_squares,
    least_squares_torch,
    relative_error,
    relative_error_torch,
    ridge_fitted_values,
)

# y = [0, 0, 3] on x = [0, 1, 2]: mean x 1, mean y 1, cov 1, var 2/3, so the
# slope is 1.5, the intercept 1 - 1.5 = -0.5 and the fit [-0.5, 1, 2.5].
LINE_X = [[0.0], [1.0], [2.0]]
LINE_Y = [0.0, 0.0, 3.0]
LINE_FIT = [-0.5, 1.0, 2.5]


def test_error_scale_rule():
    assert error_scale(4.0, 9.0) == 4.0
    assert error_scale(0.0, 9.0) == 9.0  # constant target: its mean square
    assert error_scale(0.0, 0.0) == 1.0  # all-zero target: plain MSE


# (prediction, y, relative error) worked by hand.
CASES = [
    ([1.0, 3.0], [0.0, 2.0], 1.0),  # MSE 1, variance 1
    ([3.0, 3.0], [2.0, 2.0], 0.25),  # constant target: MSE 1 over mean square 4
    ([1.0, 3.0], [0.0, 0.0], 5.0),  # all-zero target: MSE (1 + 9) / 2
    ([4.0], [2.0], 1.0),  # one row: variance 0, MSE 4 over mean square 4
]


@pytest.mark.parametrize(("prediction", "y", "expected"), CASES)
def test_relative_error_by_hand(prediction, y, expected):
    assert relative_error(np.array(prediction), np.array(y)) == expected


@pytest.mark.parametrize(("prediction", "y", "expected"), CASES)
def test_torch_relative_error_follows_the_same_rule(prediction, y, expected):
    value = relative_error_torch(
        torch.tensor(prediction, dtype=torch.float64),
        torch.tensor(y, dtype=torch.float64),
    )
    assert float(value) == expected


def test_relative_error_of_a_non_finite_prediction_is_inf():
    assert relative_error(np.array([1.0, np.nan]), np.array([0.0, 2.0])) == math.inf


def test_torch_relative_error_is_differentiable():
    prediction = torch.tensor([1.0, 3.0], dtype=torch.float64, requires_grad=True)
    value = relative_error_torch(
        prediction, torch.tensor([0.0, 2.0], dtype=torch.float64)
    )
    value.backward()
    # d/dp mean((p - y)^2) / var(y) = 2 (p - y) / (n var(y)) = [1, 1].
    assert prediction.grad.tolist() == [1.0, 1.0]


def test_least_squares_by_hand():
    coefficients, intercept = least_squares(np.array(LINE_X), np.array(LINE_Y))
    assert coefficients == pytest.approx([1.5], abs=1e-12)
    assert intercept == pytest.approx(-0.5, abs=1e-12)
    assert isinstance(intercept, float)


def test_least_squares_recovers_an_exact_plane():
    features = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    y = 3 * features[:, 0] - 2 * features[:, 1] + 5
    coefficients, intercept = least_squares(features, y)
    assert coefficients == pytest.approx([3.0, -2.0], abs=1e-12)
    assert intercept == pytest.approx(5.0, abs=1e-12)


def test_least_squares_without_features_fits_the_mean():
    coefficients, intercept = least_squares(np.empty((3, 0)), np.array([1.0, 2.0, 6.0]))
    assert coefficients.shape == (0,)
    assert intercept == pytest.approx(3.0, abs=1e-12)


def test_torch_least_squares_by_hand():
    features = torch.tensor(LINE_X, dtype=torch.float64)
    coefficients, intercept = least_squares_torch(
        features, torch.tensor(LINE_Y, dtype=torch.float64)
    )
    assert coefficients.tolist() == pytest.approx([1.5], abs=1e-12)
    assert float(intercept) == pytest.approx(-0.5, abs=1e-12)


def test_ridge_fitted_values_by_hand_and_differentiable():
    features = torch.tensor(LINE_X, dtype=torch.float64, requires_grad=True)
    fitted = ridge_fitted_values(features, torch.tensor(LINE_Y, dtype=torch.float64))
    assert fitted.tolist() == pytest.approx(LINE_FIT, abs=1e-7)
    fitted.sum().backward()
    # The sum of fitted values equals the sum of y whatever the features, as
    # long as there is an intercept: its gradient vanishes (up to the ridge).
    assert features.grad.abs().max().item() < 1e-6


def test_ridge_fitted_values_survive_collinear_features():
    column = torch.tensor(LINE_X, dtype=torch.float64)
    features = torch.cat([column, column], dim=1)
    fitted = ridge_fitted_values(features, torch.tensor(LINE_Y, dtype=torch.float64))
    assert fitted.tolist() == pytest.approx(LINE_FIT, abs=1e-6)


# Weights [2, 1, 1] on LINE_X/LINE_Y are the rows [0, 0, 1, 2] with weight one:
# mean x 3/4, mean y 3/4, cov (0*0*2 + 1*0 + 2*3)/4 - 9/16 = 15/16,
# var x (0 + 0 + 1 + 4)/4 - 9/16 = 11/16: slope 15/11, intercept 3/4 - 45/44.
def test_weighted_least_squares_equals_repeated_rows():
    coefficients, intercept = least_squares(
        np.array(LINE_X), np.array(LINE_Y), np.array([2.0, 1.0, 1.0])
    )
    assert coefficients[0] == pytest.approx(15 / 11)
    assert intercept == pytest.approx(3 / 4 - 45 / 44)
    torch_coefficients, torch_intercept = least_squares_torch(
        torch.tensor(LINE_X), torch.tensor(LINE_Y), torch.tensor([2.0, 1.0, 1.0])
    )
    assert float(torch_coefficients[0]) == pytest.approx(15 / 11)
    assert float(torch_intercept) == pytest.approx(3 / 4 - 45 / 44)


def test_weighted_relative_error_equals_repeated_rows():
    # prediction 0 on y = [0, 2] with weights [3, 1] is the rows [0, 0, 0, 2]:
    # MSE 1, mean 1/2, variance 1 - 1/4 = 3/4, relative error 4/3.
    prediction, y, weights = np.zeros(2), np.array([0.0, 2.0]), np.array([3.0, 1.0])
    assert relative_error(prediction, y, weights) == pytest.approx(4 / 3)
    as_torch = relative_error_torch(
        torch.zeros(2), torch.tensor(y), torch.tensor(weights)
    )
    assert float(as_torch) == pytest.approx(4 / 3)


def test_weighted_ridge_fit_equals_repeated_rows():
    fitted = ridge_fitted_values(
        torch.tensor(LINE_X),
        torch.tensor(LINE_Y),
        weights=torch.tensor([2.0, 1.0, 1.0]),
    )
    slope, intercept = 15 / 11, 3 / 4 - 45 / 44
    expected = [intercept, intercept + slope, intercept + 2 * slope]
    assert fitted.tolist() == pytest.approx(expected, abs=1e-6)


def test_zero_weight_rows_do_not_count():
    prediction = np.array([1.0, 2.0, 1e9])
    y = np.array([1.0, 3.0, 0.0])
    weights = np.array([1.0, 1.0, 0.0])
    assert relative_error(prediction, y, weights) == relative_error(
        prediction[:2], y[:2]
    )


def test_blockwise_least_squares_equals_the_direct_fit(monkeypatch):
    import nalu_sr.linalg as linalg

    rng = np.random.default_rng(5)
    features = rng.normal(size=(1000, 4))
    y = features @ [1.5, -2.0, 0.0, 3.0] + 0.7 + rng.normal(0, 0.1, 1000)
    weights = rng.uniform(0.1, 2.0, 1000)
    direct = least_squares(features[:, [0, 1, 3]], y, weights)
    monkeypatch.setattr(linalg, "BLOCK_ROWS", 128)
    blockwise = least_squares(features, y, weights, columns=[0, 1, 3])
    np.testing.assert_allclose(blockwise[0], direct[0], rtol=1e-12)
    assert blockwise[1] == pytest.approx(direct[1], rel=1e-12)


def test_blockwise_least_squares_of_collinear_columns_fits_as_well(monkeypatch):
    import nalu_sr.linalg as linalg

    x = np.linspace(1, 2, 500)
    features = np.column_stack([x, 2 * x])  # rank 1: many solutions
    y = 3 * x + 1
    monkeypatch.setattr(linalg, "BLOCK_ROWS", 64)
    coefficients, intercept = least_squares(features, y)
    np.testing.assert_allclose(features @ coefficients + intercept, y, atol=1e-10)

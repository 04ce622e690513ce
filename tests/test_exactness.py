"""nalu_sr.exactness: the precision floor and the extrapolation check."""

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from nalu_sr.exactness import (
    ROUNDING_ULPS,
    LawCheck,
    extrapolation_loss,
    outer_rows,
    precision_floor,
    refit_constants,
)

x0, x1 = sympy.symbols("x0 x1", real=True)
EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)


def test_floor_scales_with_the_dtype_and_the_offset_of_the_target():
    y = np.array([1.0, 3.0])  # mean square 5, variance 1
    assert precision_floor(y, np.float64) == pytest.approx(
        (ROUNDING_ULPS * EPS64) ** 2 * 5
    )
    assert precision_floor(y, np.float32) == pytest.approx(
        (ROUNDING_ULPS * EPS32) ** 2 * 5
    )
    assert precision_floor(y + 100, np.float64) > 1000 * precision_floor(y, np.float64)
    assert precision_floor(np.ones(3), np.float64) == np.inf


def test_the_floor_of_huge_or_tiny_targets_is_that_of_their_shape():
    y = np.array([1.0, 3.0])
    for scale in (1e200, 1e-200):
        assert precision_floor(y * scale, np.float64) == pytest.approx(
            precision_floor(y, np.float64)
        )
    assert precision_floor(np.array([0.0, 0.0]), np.float64) == np.inf
    assert precision_floor(np.array([1.0, np.inf]), np.float64) == np.inf


def test_weights_enter_the_floor():
    y, w = np.array([0.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0])
    # Weighted: mean square 8, variance 4.
    assert precision_floor(y, np.float64, w) == pytest.approx(
        (ROUNDING_ULPS * EPS64) ** 2 * 2
    )


def test_outer_rows_are_extreme_in_any_input():
    X = np.array([[0.0, 50.0], [5.0, 49.0], [2.0, 0.0], [3.0, 51.0], [9.0, 50.5]])
    # Scaled ranks: column 0 -> [-1, .5, -.5, 0, 1], column 1 -> [0, -.5, -1, 1, .5].
    assert outer_rows(X, 0.4).tolist() == [True, False, True, False, False]


@given(st.integers(2, 300), st.integers(1, 4), st.floats(0.05, 0.5))
def test_outer_rows_mark_the_share_asked_for(n_rows, n_columns, share):
    X = np.random.default_rng(n_rows).normal(size=(n_rows, n_columns))
    assert outer_rows(X, share).sum() == round(share * n_rows)


def _rows(low, high, n=300, d=1):
    return np.random.default_rng(0).uniform(low, high, size=(n, d))


def test_the_old_false_exact_cosh_fails_extrapolation_and_cosh_passes():
    # The formula nalu_sr returned for cosh(x0) on [-1, 1] before the check
    # (loss 1.6e-17 < tol 1e-16, and exact_ = True).
    approximation = (
        0.000797030347913952 * x0**6 + 0.0304906092458574 * x0**4
        + 0.359561976145876 * x0**2
        + 0.882398386400379 * sympy.exp(x0**2 / (2 * sympy.pi)) + 0.117601612825581
    )  # fmt: skip
    X = _rows(-1, 1)
    check = LawCheck.from_data(X, np.cosh(X[:, 0]), None, np.float64)
    far = check.extrapolation(approximation, [x0])
    assert far > 1e6 * check.floor and not check.extrapolates(far)
    for law in (sympy.cosh(x0), 0.5 * sympy.exp(x0) + 0.5 * sympy.exp(-x0)):
        assert check.extrapolates(check.extrapolation(law, [x0]))


def test_a_law_with_wrong_start_constants_is_refitted_before_it_predicts():
    # Free constants refitted on the inner rows: intercept, coefficients and
    # the inner float all move back to the law's values.
    X = _rows(1, 5, d=2)
    y = 3 * np.sin(0.7 * X[:, 0]) * X[:, 1] + 2
    start = 2.9 * sympy.sin(0.69 * x0) * x1 + 2.1
    assert extrapolation_loss(start, [x0, x1], X, y) < 1e-24


def test_refitted_constants_are_the_least_squares_values():
    X = _rows(1, 5, d=2)
    y = 3 * np.sin(0.7 * X[:, 0]) * X[:, 1] + 2
    start = 2.9 * sympy.sin(0.69 * x0) * x1 + 2.1
    refitted = refit_constants(start, [x0, x1], X, y)
    values = sorted(float(v) for v in refitted.atoms(sympy.Float))
    assert np.allclose(values, [0.7, 2.0, 3.0], rtol=1e-12)
    # no more rows than its 3 free constants: nothing to fit
    assert refit_constants(start, [x0, x1], X[:3], y[:3]) is None
    assert refit_constants(sympy.log(x0 - 5), [x0], X, y) is None


def test_too_few_inner_rows_or_an_unusable_formula_fail():
    X = _rows(1, 2, n=4)  # 3 inner rows for 2 free constants: checked
    assert extrapolation_loss(x0, [x0], X, X[:, 0]) == 0.0
    X = _rows(1, 2, n=3)  # 2 inner rows for 3 free constants: not
    assert extrapolation_loss(x0**2 + 0.5 * x0, [x0], X, X[:, 0]) == np.inf
    undefined = sympy.log(x0 - 5)
    assert extrapolation_loss(undefined, [x0], _rows(1, 2), np.ones(300)) == np.inf


def test_float32_data_have_a_float32_floor_and_a_law_meets_it():
    X = _rows(1, 5, d=2).astype(np.float32)
    y = (X[:, 0] * X[:, 1]).astype(np.float32)  # rounded to float32
    check = LawCheck.from_data(X, y, None, np.float32)
    law = x0 * x1
    prediction = X[:, 0].astype(np.float64) * X[:, 1]
    loss = np.mean((prediction - y) ** 2) / np.var(y.astype(np.float64))
    assert 1e-20 < loss <= check.floor
    assert check.extrapolates(check.extrapolation(law, [x0, x1]))


def test_the_loss_of_a_formula_on_the_check_rows_is_its_relative_error():
    # y = x on x in {0, 1, 2, 3}: var(y) = 1.25; 1.5*x misses by x/2, so the
    # mean squared error is (0 + 1 + 4 + 9) / 16 = 0.875, relative 0.7.
    X = np.arange(4.0).reshape(-1, 1)
    check = LawCheck.from_data(X, X[:, 0], None, np.float64)
    x = sympy.Symbol("x")
    assert check.loss(1.5 * x, [x]) == pytest.approx(0.7)
    assert check.loss(x, [x]) == 0.0
    assert check.loss(sympy.log(x - 1), [x]) == np.inf


def test_huge_targets_are_judged_without_overflow():
    # exp(|x|) reaches 1e300 here: squares of the raw values overflow.
    X = np.linspace(1.0, 690.0, 50).reshape(-1, 1)
    check = LawCheck.from_data(X, np.exp(X[:, 0]), None, np.float64)
    assert 0 < check.floor < 1e-20
    assert check.within_noise(0.0)
    assert not check.within_noise(1.0)


def _pendulum(noise):
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, size=(2000, 2))
    y = 2 * np.pi * np.sqrt(X[:, 0] / X[:, 1])
    return X, y + noise * np.sqrt(np.mean(y**2)) * rng.standard_normal(len(y))


@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_a_law_under_noise_extrapolates_like_noise(noise):
    check = LawCheck.from_data(*_pendulum(noise), None, np.float64)
    assert check.extrapolates_like_noise(2 * sympy.pi * sympy.sqrt(x0 / x1), [x0, x1])


def test_an_approximation_bent_to_a_narrow_range_does_not():
    # exp on [1, 1.5] under 0.1% noise, by its least-squares quadratic.
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 1.5, size=(2000, 1))
    y = np.exp(X[:, 0]) + 1e-3 * rng.standard_normal(len(X))
    design = np.column_stack([X[:, 0] ** 2, X[:, 0], np.ones(len(X))])
    a, b, c = np.linalg.lstsq(design, y, rcond=None)[0]
    check = LawCheck.from_data(X, y, None, np.float64)
    assert not check.extrapolates_like_noise(a * x0**2 + b * x0 + c, [x0])
    assert check.extrapolates_like_noise(sympy.exp(x0), [x0])


def test_an_approximation_with_snapped_constants_does_not_pass_as_a_law():
    # sin(2*x0)*exp(x1/2) on [0.5, 3], noise free, by a formula whose
    # constants snapped to simple numbers: refitting them changes little,
    # but its residuals are a smooth function of the inputs, not noise.
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 3, size=(750, 2))
    y = np.sin(2 * X[:, 0]) * np.exp(X[:, 1] / 2)
    check = LawCheck.from_data(X, y, None, np.float64)
    bent = (49 * x1**2 / sympy.pi**2 + 18) * sympy.sin(2 * x0) / 14
    assert check.within_noise(check.loss(bent, [x0, x1]))
    assert not check.extrapolates_like_noise(bent, [x0, x1])

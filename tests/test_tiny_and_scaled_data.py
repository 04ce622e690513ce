"""Honest results on tiny data, and the same law at any consistent scale."""

import re

import numpy as np
import pytest
import sympy

from nalu_sr import InsufficientDataWarning, NALURegressor
from nalu_sr._fit_data import (
    DecadeScales,
    decade_scales,
    held_out_rows,
    rows_needed,
)
from nalu_sr.exactness import free_constants

x0, x1 = sympy.symbols("x0:2", real=True)
ARITHMETIC = {"architectures": ("power", "sum-power"), "random_state": 0}


def _inputs(n, seed=0):
    return np.random.default_rng(seed).uniform(1, 5, size=(n, 2))


# --- tiny data -------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_rows", "message"),
    [
        (
            1,
            "it has 1 free constant(s) and no row could be held out to validate "
            "it, so it is not claimed exact; at least 10 rows are needed (got 1)",
        ),
        (
            2,
            "it has 2 free constant(s) and no row could be held out to validate "
            "it, so it is not claimed exact; at least 13 rows are needed (got 2)",
        ),
        (
            9,
            "too few rows to confirm the formula x0*x1: it has 2 free constant(s) "
            "and no row could be held out to validate it, so it is not claimed "
            "exact; at least 13 rows are needed (got 9)",
        ),
        (
            12,
            "too few rows to confirm the formula x0*x1: it has 2 free constant(s) "
            "and only 2 held-out validation row(s) checked it, so it is not "
            "claimed exact; at least 13 rows are needed (got 12)",
        ),
    ],
)
def test_too_few_rows_are_never_exact(n_rows, message):
    X = _inputs(n_rows)
    with pytest.warns(InsufficientDataWarning, match=re.escape(message)):
        model = NALURegressor(**ARITHMETIC).fit(X, X[:, 0] * X[:, 1])
    assert model.exact_ is False
    assert model.loss_ <= model.precision_floor_  # interpolated, hence unconfirmed


def test_enough_held_out_rows_confirm_the_formula():
    X = _inputs(13)
    model = NALURegressor(**ARITHMETIC).fit(X, X[:, 0] * X[:, 1])  # no warning
    assert sympy.simplify(model.expression_ - x0 * x1) == 0
    assert model.exact_ is True


def test_held_out_rows_follow_the_split_rule():
    assert [held_out_rows(n, 0.2) for n in (1, 9, 10, 12, 13, 100)] == [
        0, 0, 2, 2, 3, 20,
    ]  # fmt: skip
    assert held_out_rows(10, 0.01) == 1


@pytest.mark.parametrize(
    ("n_constants", "fraction", "needed"),
    [
        (0, 0.2, 10),
        (1, 0.2, 10),
        (2, 0.2, 13),
        (4, 0.2, 23),
        (2, 0.5, 10),
        (3, 0.05, 70),
    ],
)
def test_rows_needed_is_the_fewest_that_outnumber_the_constants(
    n_constants, fraction, needed
):
    assert rows_needed(n_constants, fraction) == needed
    assert held_out_rows(needed, fraction) > n_constants
    assert needed == 10 or held_out_rows(needed - 1, fraction) <= n_constants


@pytest.mark.parametrize(
    ("expression", "count"),
    [
        (sympy.Float(7.5), 1),
        (x0 * x1, 2),
        (1.145 * x0 + 3.313, 2),
        (x0 / x1**2 + 3 * x1 - 2, 3),
        (sympy.pi * sympy.sqrt(x0), 2),
        (x1 * sympy.sin(0.7 * x0 + 0.2) + 1.5, 4),
    ],
)
def test_free_constants_count_the_fitted_numbers(expression, count):
    assert free_constants(expression) == count


# --- consistent scales -----------------------------------------------------

SCALES = [-15, -12, -9, -6, 0, 6, 9, 12, 15]
LAWS = {
    "product": (lambda X: X[:, 0] * X[:, 1], lambda a, b: a * b),
    "inverse-square": (lambda X: X[:, 0] / X[:, 1] ** 2, lambda a, b: a / b**2),
}


@pytest.mark.parametrize("law", sorted(LAWS))
@pytest.mark.parametrize("mode", ["inputs", "target", "both"])
@pytest.mark.parametrize("decade", SCALES)
def test_any_consistent_scale_gives_the_unit_scale_law(law, mode, decade):
    numeric, symbolic = LAWS[law]
    X0 = _inputs(200)
    s_x = 10.0**decade if mode != "target" else 1.0
    s_y = 10.0**decade if mode != "inputs" else 1.0
    # Inputs in units 10**-decade, target in units 10**-decade as well: the
    # raw law is s_y * f(x / s_x), exactly, with s_x, s_y powers of ten.
    X, y = X0 * s_x, numeric(X0) * s_y
    model = NALURegressor(**ARITHMETIC).fit(X, y)
    ten = sympy.Integer(10)
    k_x, k_y = (decade if s_x != 1 else 0), (decade if s_y != 1 else 0)
    truth = ten**k_y * symbolic(x0 / ten**k_x, x1 / ten**k_x)
    assert sympy.simplify(model.expression_ - truth) == 0
    assert model.exact_
    np.testing.assert_allclose(model.predict(X), y, rtol=1e-9)


def test_exact_constants_survive_rescaling():
    X = _inputs(200) * 1e-12
    y = X[:, 0] * X[:, 1] / (4 * np.pi)
    model = NALURegressor(**ARITHMETIC).fit(X, y)
    assert sympy.simplify(model.expression_ - x0 * x1 / (4 * sympy.pi)) == 0


def test_decades_are_those_of_the_root_mean_square_outside_the_kept_band():
    X = np.column_stack([np.full(4, 3e-12), np.full(4, 2.0), np.full(4, 5e7)])
    scales = decade_scales(X, np.array([0.0, 0.0, 0.0, 0.0]))
    assert scales == DecadeScales(inputs=(-12, 0, 7), target=0)
    assert decade_scales(np.full((3, 1), 999.0), np.full(3, 1e-3)).inputs == (0,)
    assert decade_scales(np.full((3, 1), 1e300), np.full(3, 1e-300)) == DecadeScales(
        inputs=(300,), target=-300
    )


def test_restore_undoes_the_normalisation_exactly():
    scales = DecadeScales(inputs=(-9, 0), target=4)
    found = sympy.pi * x0 * x1 + 3 * x1
    restored = scales.restore(found, [x0, x1])
    assert restored == 10**4 * (sympy.pi * x0 * 10**9 * x1 + 3 * x1)
    X = np.array([[2e-9, 3.0], [5e-9, 7.0]])
    X_n, y_n = scales.normalise(X, np.array([1e4, 2e4]))
    np.testing.assert_allclose(X_n, [[2.0, 3.0], [5.0, 7.0]], rtol=1e-15)
    np.testing.assert_array_equal(y_n, [1.0, 2.0])


def test_float32_input_is_cast_exactly_and_finds_the_same_law():
    rng = np.random.default_rng(0)
    X32 = rng.uniform(1, 5, size=(300, 2)).astype(np.float32)
    X64 = X32.astype(np.float64)
    y = X64[:, 0] * X64[:, 1] ** 2
    settings = {"random_state": 0, "architectures": ("power",)}
    from_32 = NALURegressor(**settings).fit(X32, y)
    from_64 = NALURegressor(**settings).fit(X64, y)
    assert from_32.expression_ == from_64.expression_
    assert from_32.loss_ == from_64.loss_ and from_32.exact_
    # Inputs in millivolts are shifted by a power of ten in float64, exactly.
    small = X32 * np.float32(1e-6)
    law = small.astype(np.float64)
    scaled = NALURegressor(**settings).fit(small, law[:, 0] * law[:, 1] ** 2)
    assert scaled.exact_


def test_a_float32_split_stays_float32():
    from nalu_sr._fit_data import split_rows

    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    split = split_rows(X, np.arange(20.0), 0.25, np.random.RandomState(0))
    assert split.X_train.dtype == split.X_val.dtype == np.float32
    assert split.y_train.dtype == np.float64


def test_hidden_features_and_heads_of_float32_rows_are_computed_in_float64(
    monkeypatch,
):
    from nalu_sr.extraction import candidate
    from nalu_sr.extraction.candidate import Head, hidden_features
    from nalu_sr.units.snapped import ProductOutput, SnappedUnit

    monkeypatch.setattr(candidate, "BLOCK_ROWS", 3)  # several blocks
    X32 = (np.arange(20, dtype=np.float32).reshape(10, 2) + 1) / np.float32(3)
    X64 = X32.astype(np.float64)
    x0_over_x1 = ProductOutput((1, -1), signed=True)
    record = SnappedUnit("realnpu", 2, (x0_over_x1,), 0.0)
    H32, H64 = hidden_features([record], X32), hidden_features([record], X64)
    assert H32.dtype == np.float64
    np.testing.assert_array_equal(H32, H64)
    np.testing.assert_allclose(H64[:, 0], X64[:, 0] / X64[:, 1], rtol=1e-15)
    head = Head([0, 1], [1 / 3, 7.0], 0.1)
    assert hidden_features([], X32) is X32  # no units: no copy
    prediction = head.predict(X32)
    assert prediction.dtype == np.float64
    np.testing.assert_array_equal(prediction, head.predict(X64))


def test_float32_input_finds_the_same_law_with_functions():
    rng = np.random.default_rng(1)
    X32 = rng.uniform(1, 5, size=(400, 2)).astype(np.float32)
    X64 = X32.astype(np.float64)
    y = X64[:, 1] * np.sin(X64[:, 0])
    from_32 = NALURegressor(random_state=0).fit(X32, y)
    from_64 = NALURegressor(random_state=0).fit(X64, y)
    assert sympy.simplify(from_32.expression_ - x1 * sympy.sin(x0)) == 0
    assert from_32.expression_ == from_64.expression_
    assert from_32.loss_ == from_64.loss_


def test_a_log_of_a_rescaled_input_comes_back_without_the_decade():
    scales = DecadeScales((5, 0), 0)
    # log(x0/10**5) + 5*log(10) in floating point is log(x0).
    found = sympy.log(x0) + sympy.Float(5 * np.log(10)) + x1
    assert scales.restore(found, [x0, x1]) == sympy.log(x0) + x1
    # A fitted intercept that does not cancel stays one float.
    restored = scales.restore(2 * sympy.log(x0) + sympy.Float(3.0), [x0, x1])
    (number,) = restored.atoms(sympy.Float)
    assert float(number) == pytest.approx(3.0 - 10 * np.log(10), rel=1e-14)
    assert restored.has(sympy.log(x0))
    # Exact numbers stay exact.
    assert scales.restore(sympy.log(x0), [x0, x1]) == sympy.log(x0) - sympy.log(10**5)


@pytest.mark.parametrize(("low", "high"), [(1.0, 100.0), (1e3, 1e6), (1e-6, 1e-3)])
def test_log_is_found_on_wide_and_far_ranges(low, high):
    X = np.random.default_rng(0).uniform(low, high, size=(200, 1))
    model = NALURegressor(random_state=0).fit(X, np.log(X[:, 0]))
    assert model.exact_
    assert model.expression_ == sympy.log(sympy.Symbol("x0", real=True))

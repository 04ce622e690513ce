"""``fit(X, y, sample_weight=...)``: weighted losses, rows left out, errors."""

import re
import warnings

import numpy as np
import pytest
import sympy
from sklearn.utils import estimator_checks

from nalu_sr import NALURegressor, PoorFitWarning
from nalu_sr._fit_data import row_weights

FAST_PARAMS = {
    "max_iter": 30,
    "n_restarts": 1,
    "architectures": ("power",),
    "hidden_widths": (1, 2),
}
x0, x1 = sympy.symbols("x0:2", real=True)


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, size=(n, 2))
    return X, X[:, 0] * X[:, 1] + X[:, 0], rng


def test_rows_of_weight_zero_are_left_out():
    X, y, rng = _data()
    corrupted = y.copy()
    bad = rng.random(len(y)) < 0.3
    corrupted[bad] = rng.normal(0, 100, bad.sum())
    weights = np.where(bad, 0.0, 1.0)
    model = NALURegressor(**FAST_PARAMS, random_state=0)
    model.fit(X, corrupted, sample_weight=weights)
    assert sympy.simplify(model.expression_ - (x0 * x1 + x0)) == 0
    assert model.exact_


def test_tiny_weights_silence_outliers():
    X, y, rng = _data()
    outliers = rng.random(len(y)) < 0.05
    y = y + np.where(outliers, 40.0, 0.0)
    weights = np.where(outliers, 1e-9, 1.0)
    model = NALURegressor(**FAST_PARAMS, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorFitWarning)
        model.fit(X, y, sample_weight=weights)
    assert sympy.simplify(model.expression_ - (x0 * x1 + x0)) == 0
    assert model.loss_ < 1e-6  # weighted: the outliers barely count


def test_equal_weights_fit_exactly_as_no_weights():
    X, y, _ = _data()
    y = y + np.random.default_rng(3).normal(0, 0.5, len(y))  # not found exactly
    plain = NALURegressor(**FAST_PARAMS, random_state=0)
    weighted = NALURegressor(**FAST_PARAMS, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorFitWarning)
        plain.fit(X, y)
        weighted.fit(X, y, sample_weight=np.full(len(y), 2.5))
    assert weighted.expression_ == plain.expression_
    assert weighted.loss_ == plain.loss_


def test_integer_weights_find_the_law_of_repeated_rows():
    X, y, rng = _data(n=120)
    counts = rng.integers(1, 4, len(y))
    weighted = NALURegressor(**FAST_PARAMS, random_state=0)
    weighted.fit(X, y, sample_weight=counts)
    repeated = NALURegressor(**FAST_PARAMS, random_state=0)
    repeated.fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    assert sympy.simplify(weighted.expression_ - repeated.expression_) == 0


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.zeros(20), "Sample weights must contain at least one non-zero number"),
        (np.r_[-1.0, np.ones(19)], "Negative values in data passed to `sample_weight`"),
        (np.ones(7), "sample_weight.shape == (7,), expected (20,)!"),
        (np.r_[np.nan, np.ones(19)], "Input sample_weight contains NaN"),
    ],
)
def test_bad_weights_are_refused_with_one_clear_line(weights, message):
    X, y, _ = _data(n=20)
    with pytest.raises(ValueError, match=re.escape(message)):
        NALURegressor(**FAST_PARAMS).fit(X, y, sample_weight=weights)


def test_row_weights_drop_zeros_and_normalise():
    X = np.arange(8.0).reshape(4, 2)
    y = np.arange(4.0)
    kept_X, kept_y, weights = row_weights([0.0, 1.0, 3.0, 2.0], X, y)
    assert kept_y.tolist() == [1.0, 2.0, 3.0]
    assert kept_X.tolist() == [[2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]
    assert weights is not None
    assert weights.tolist() == [0.5, 1.5, 1.0]
    assert row_weights([2.0, 2.0, 0.0, 2.0], X, y)[2] is None  # equal: unweighted
    assert row_weights(None, X, y)[2] is None


# scikit-learn's own sample-weight checks, on the fast settings (the slow
# check_estimator test runs them all with the defaults).
@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
@pytest.mark.filterwarnings("ignore::nalu_sr.InsufficientDataWarning")
@pytest.mark.parametrize(
    "check",
    [
        "check_sample_weights_pandas_series",
        "check_sample_weights_not_an_array",
        "check_sample_weights_list",
        "check_sample_weights_shape",
        "check_sample_weights_not_overwritten",
        "check_all_zero_sample_weights_error",
        "check_sample_weight_equivalence_on_dense_data",
    ],
)
def test_scikit_learn_sample_weight_checks(check):
    getattr(estimator_checks, check)("NALURegressor", NALURegressor(**FAST_PARAMS))

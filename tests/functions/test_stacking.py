import numpy as np
import sympy

from nalu_sr.extraction.candidate import Split
from nalu_sr.functions import FunctionSearch, FunctionSearchConfig, search_functions
from nalu_sr.functions.stacking import (
    distinct_features,
    exponentials,
    function_applications,
    snapped,
    with_features,
)
from nalu_sr.primitives import DEFAULT_PRIMITIVES, resolve_primitives

x0, x1 = sympy.symbols("x0:2", real=True)
CONFIG = FunctionSearchConfig(resolve_primitives(DEFAULT_PRIMITIVES), tol=1e-10)


def _split(truth, low, high, n_features, rows=600):
    rng = np.random.default_rng(0)
    X = rng.uniform(low, high, (rows, n_features))
    f = sympy.lambdify((x0, x1)[:n_features], truth, "numpy")
    y = np.asarray(f(*X.T), dtype=float) * np.ones(rows)
    cut = rows * 4 // 5
    return Split(X[:cut], y[:cut], X[cut:], y[cut:])


def test_applications_are_functions_and_fractional_powers_outermost_first():
    expression = 2 * x1 * sympy.sin(sympy.exp(x0)) + sympy.sqrt(x0**2 + 1) + x0**0.5
    found = function_applications(expression)
    assert found.index(sympy.sin(sympy.exp(x0))) < found.index(sympy.exp(x0))
    assert set(found) == {
        sympy.sin(sympy.exp(x0)),
        sympy.exp(x0),
        sympy.sqrt(x0**2 + 1),
    }


def test_snapping_makes_near_rationals_exact_and_drops_tiny_offsets():
    feature = sympy.sin(sympy.Float(1.9987) * x0 + sympy.Float(3e-9))
    assert snapped(feature) == sympy.sin(2 * x0)
    kept = sympy.tanh(sympy.Float(0.8123) * x0)
    assert snapped(kept) == kept


def test_distinct_features_drop_copies_and_values_off_the_domain():
    X = np.linspace(-2, 2, 50)[:, None]
    offered = [sympy.exp(x0), 3 * sympy.exp(x0) + 1, sympy.log(x0), sympy.cos(x0)]
    assert distinct_features(offered, [x0], X) == [sympy.exp(x0), sympy.cos(x0)]


def test_exponentials_come_at_full_then_half_scale_and_shrink_wide_inputs():
    X = np.column_stack([np.linspace(-2, 2, 20), np.linspace(1, 300, 20)])
    assert exponentials([x0, x1], X) == [
        sympy.exp(x0),
        sympy.exp(x1 / 1000),
        sympy.exp(x0 / 2),
        sympy.exp(x1 / 2000),
    ]


def test_features_are_columns_after_the_inputs():
    split = _split(x0, 0, 1, 1, rows=10)
    widened = with_features(split, [x0], [sympy.exp(x0)])
    np.testing.assert_allclose(widened.X_train[:, 1], np.exp(split.X_train[:, 0]))
    np.testing.assert_array_equal(widened.y_val, split.y_val)


def test_a_product_of_functions_is_found_over_an_exponential_feature():
    truth = sympy.exp(-x0) * sympy.sin(3 * x0)
    split = _split(truth, -2, 2, 1)
    features = exponentials([x0], split.X_train)
    candidates = FunctionSearch(split, [x0], CONFIG, features).run()
    best = min(candidates, key=lambda c: c.validation_loss)
    assert sympy.simplify(best.expression - truth) == 0
    assert best.architecture.startswith("stacked/")
    assert best.expression.free_symbols == {x0}


def test_a_hyperbolic_law_is_a_sum_of_powers_of_the_exponential():
    truth = x1 * sympy.cosh(x0 / 2)
    split = _split(truth, -2, 2, 2)
    features = exponentials([x0, x1], split.X_train)
    candidates = FunctionSearch(split, [x0, x1], CONFIG, features).run()
    best = min(candidates, key=lambda c: c.validation_loss)
    assert sympy.simplify((best.expression - truth).rewrite(sympy.exp)) == 0


def test_a_log_of_a_signed_input_starts_lifted_above_zero():
    truth = x1 * sympy.log(x0 + 2)
    candidates = search_functions(_split(truth, -1, 1, 2), [x0, x1], CONFIG)
    best = min(candidates, key=lambda c: c.validation_loss)
    assert sympy.simplify(best.expression - truth) == 0


def test_an_exponential_of_a_wide_input_reaches_its_scale():
    truth = x1 * sympy.exp(-x0 / 30)
    candidates = search_functions(_split(truth, 1, 100, 2), [x0, x1], CONFIG)
    best = min(candidates, key=lambda c: c.validation_loss)
    assert sympy.simplify(best.expression - truth) == 0

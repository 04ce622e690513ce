import math

import numpy as np
import sympy

from nalu_sr.extraction.candidate import Candidate, Split
from nalu_sr.functions.polish import polished

x0, x1 = sympy.symbols("x0:2", real=True)
F = sympy.Float


def _split(truth, low, high, rows=600):
    rng = np.random.default_rng(0)
    X = rng.uniform(low, high, (rows, 2))
    f = sympy.lambdify((x0, x1), truth, "numpy")
    y = np.asarray(f(*X.T), dtype=float) * np.ones(rows)
    cut = rows * 4 // 5
    return Split(X[:cut], y[:cut], X[cut:], y[cut:])


def _candidate(expression, loss):
    return Candidate(expression, 10, loss, loss, "stacked/identity", 1, None)


def test_frozen_feature_constants_are_refitted_with_the_formula_and_snapped():
    truth = x0 * sympy.tanh(x1) * sympy.cos(x1)
    # what a second level builds over tanh(0.9865*x1 + 0.0127) from the first
    start = F(1.003) * x0 * sympy.cos(F(0.998) * x1 + F(0.005))
    start = start * sympy.tanh(F(0.9865) * x1 + F(0.0127))
    found = polished(_candidate(start, 1e-5), [x0, x1], _split(truth, 0.5, 3), 1e-24)
    assert sympy.simplify(found.expression - truth) == 0
    assert found.validation_loss < 1e-24
    assert found.architecture == "stacked/identity"


def test_a_term_the_law_lacks_is_driven_to_nothing_and_dropped():
    truth = x1 * sympy.exp(x0)
    start = F(0.99) * x1 * sympy.exp(F(1.01) * x0) + F(0.003) * sympy.sin(F(2.1) * x1)
    found = polished(_candidate(start, 1e-4), [x0, x1], _split(truth, -1, 1), 1e-24)
    assert sympy.simplify(found.expression - truth) == 0


def test_an_approximation_keeps_its_refitted_floats_and_is_no_worse():
    truth = sympy.cosh(x0) + x1  # not reachable by the start's shape
    split = _split(truth, -1, 1)
    start = F(0.9) + F(0.4) * x0**2 + F(0.9) * x1
    loss = 1e-3
    found = polished(_candidate(start, loss), [x0, x1], split, 1e-24)
    assert found.validation_loss < loss
    assert found.expression.atoms(sympy.Float)
    assert math.isfinite(found.train_loss)


def test_a_formula_that_cannot_be_evaluated_is_returned_as_it_was():
    split = _split(x0 + x1, -1, 1)
    start = sympy.log(F(1.0) * x0 - F(5.0))  # undefined on every row
    candidate = _candidate(start, 1.0)
    assert polished(candidate, [x0, x1], split, 1e-24) is candidate

"""Selection among candidates (nalu_sr.selection.select_candidate)."""

import numpy as np
import pytest
import sympy

from nalu_sr.extraction.candidate import Candidate, expression_complexity
from nalu_sr.selection import noise_margin, select_candidate, selection_complexity

x = sympy.Symbol("x", real=True)


def _candidate(complexity: int, loss: float) -> Candidate:
    return Candidate(
        expression=x,
        complexity=complexity,
        train_loss=loss,
        validation_loss=loss,
        architecture="test",
        width=1,
        seed=0,
    )


def test_simplest_within_twice_the_best_is_chosen():
    candidates = [_candidate(9, 1e-4), _candidate(5, 1.9e-4), _candidate(3, 3e-4)]
    assert select_candidate(candidates, tol=1e-10, selection_factor=2.0) == 1


def test_exact_candidates_are_equally_good():
    candidates = [_candidate(9, 1e-32), _candidate(5, 1e-12), _candidate(3, 1e-9)]
    assert select_candidate(candidates, tol=1e-10, selection_factor=2.0) == 1


def test_a_constant_does_not_win_against_a_poor_but_real_fit():
    # Twice 0.6 would admit the constant (relative loss 1); the additive bound
    # of (2 - 1) * 0.01 above the best does not.
    candidates = [_candidate(7, 0.6), _candidate(1, 1.0), _candidate(5, 0.605)]
    assert select_candidate(candidates, tol=1e-10, selection_factor=2.0) == 2


def test_a_large_factor_also_widens_the_additive_bound():
    candidates = [_candidate(13, 2.4e-4), _candidate(9, 1.7e-2)]
    assert select_candidate(candidates, tol=1e-10, selection_factor=100.0) == 1
    assert select_candidate(candidates, tol=1e-10, selection_factor=2.0) == 0


def test_a_polynomial_law_is_exact_before_any_body_trains():
    from nalu_sr import NALURegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 3, (400, 2))
    y = 3 * X[:, 0] - X[:, 0] ** 2 - 2 * X[:, 0] * X[:, 1]  # Lotka-Volterra
    model = NALURegressor(random_state=0).fit(X, y)
    x0, x1 = model.feature_symbols_
    assert sympy.expand(model.expression_ - (3 * x0 - x0**2 - 2 * x0 * x1)) == 0
    assert model.n_iter_ == 0 and model.module_ is None
    assert model.equations_.loc[model.best_index_, "architecture"] == "polynomial"


def test_polynomial_exponents_cover_low_degrees_of_few_inputs():
    from nalu_sr.search import polynomial_exponents

    assert len(polynomial_exponents(1)) == 3  # x, x**2, x**3
    assert len(polynomial_exponents(3)) == 3 + 6 + 10
    assert len(polynomial_exponents(6)) == 6 + 21
    assert polynomial_exponents(7) == []


def test_under_noise_a_visibly_worse_approximation_loses_to_the_law():
    # Every loss sits at the noise floor or above it: the law at 1.003 times
    # the best, a shorter series at 1.25 times. Twice the best admits both;
    # 1500 validation rows tell the series apart (margin about 3.7%).
    candidates = [
        _candidate(25, 1.0e-3),
        _candidate(12, 1.003e-3),
        _candidate(8, 1.25e-3),
    ]
    assert select_candidate(candidates, 1e-16, 2.0) == 2
    assert select_candidate(candidates, 1e-16, 2.0, n_held_out=1500) == 1


def test_the_noise_margin_shrinks_with_the_validation_rows():
    assert noise_margin(50) > noise_margin(1500) > noise_margin(100_000)
    assert noise_margin(800) == pytest.approx(0.05)
    # Few rows cannot tell much apart: the factor then decides.
    candidates = [_candidate(9, 1e-4), _candidate(5, 1.9e-4)]
    assert select_candidate(candidates, 1e-10, 2.0, n_held_out=2) == 1
    assert select_candidate(candidates, 1e-10, 2.0, n_held_out=0) == 1


def test_fitted_floats_do_not_make_a_formula_look_simpler_than_the_law():
    # Under noise both fit alike; the float exponents save a node over 4*pi.
    q, eps, r = sympy.symbols("x0 x1 x2", real=True)
    law = q / (4 * sympy.pi * eps * r**2)
    fitted = (
        sympy.Float(0.0795)
        * q ** sympy.Float(1.00007)
        / (eps ** sympy.Float(0.9995) * r ** sympy.Float(1.9986))
    )
    candidates = [
        Candidate(e, expression_complexity(e), 1.5e-4, 1.685e-4, "test", 1, 0)
        for e in (fitted, law)
    ]
    assert candidates[0].complexity < candidates[1].complexity
    assert selection_complexity(candidates[0]) > selection_complexity(candidates[1])
    assert select_candidate(candidates, 1e-16, 2.0, n_held_out=1500) == 1

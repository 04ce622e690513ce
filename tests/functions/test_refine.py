from fractions import Fraction

import numpy as np
import pytest
import sympy
import torch

from nalu_sr.functions.refine import (
    cancellation,
    degenerate,
    free_slots,
    refine,
    simpler_terms,
    snap_constants,
    terms_loss,
)
from nalu_sr.functions.terms import Argument, Term
from nalu_sr.primitives import resolve_primitives

COS, EXP, LOG, SIN = resolve_primitives(("cos", "exp", "log", "sin"))
ONE = (Fraction(1),)
RNG = np.random.default_rng(0)
X_NP = RNG.uniform(1, 5, (400, 1))
X = torch.as_tensor(X_NP)


def test_free_slots_leave_the_head_what_it_absorbs():
    assert free_slots(SIN) == (True, True)
    assert free_slots(EXP) == (True, False)
    assert free_slots(LOG) == (False, True)
    assert free_slots(None) == (False, False)


def test_refine_finds_the_inner_scale_and_snapping_makes_it_exact():
    y = 3.0 * np.cos(0.5 * X_NP[:, 0]) + 1.0
    start = Term((Fraction(0),), COS, Argument(ONE), 0.45, 0.0)
    terms, loss = refine([start], X, y)
    assert loss < 1e-20
    assert abs(float(terms[0].scale) - 0.5) < 1e-8
    snapped, snapped_loss = snap_constants(terms, X, y, tol=1e-10, symbolic=True)
    assert snapped[0].scale == sympy.Rational(1, 2)
    assert snapped[0].offset == 0
    assert snapped_loss < 1e-20


def test_a_constant_that_does_not_fit_a_simple_number_stays_a_float():
    y = np.sin(0.4137 * X_NP[:, 0])
    start = Term((Fraction(0),), SIN, Argument(ONE), 0.4, 0.0)
    terms, _ = refine([start], X, y)
    snapped, _ = snap_constants(terms, X, y, tol=1e-10, symbolic=True)
    assert isinstance(snapped[0].scale, float)
    assert abs(snapped[0].scale - 0.4137) < 1e-6


def test_a_function_seen_on_a_tiny_range_is_degenerate():
    tiny = Term((Fraction(0),), SIN, Argument(ONE), 1e-7, 11 / 7)
    wide = Term((Fraction(0),), SIN, Argument(ONE), 1.0, 0.0)
    assert degenerate(tiny, X)
    assert not degenerate(wide, X)
    assert not degenerate(Term(ONE), X)


def test_a_nearly_constant_function_term_is_replaced_by_its_factor():
    y = X_NP[:, 0] ** 2
    near_one = Term((Fraction(2),), COS, Argument(ONE), 1e-7, 0.0)
    terms, loss = simpler_terms([near_one], X, y, tol=1e-10)
    assert terms == [Term((Fraction(2),))]
    assert loss < 1e-20


def test_cancellation_measures_terms_far_larger_than_the_target():
    # x*exp(1e-4*x) - x is about 1e-4*x**2: a fit of x**2 by cancellation.
    y = X_NP[:, 0] ** 2
    nearly_x = Term(ONE, EXP, Argument(ONE), 1e-4)
    assert cancellation([Term(ONE), nearly_x], X, y) > 1e3
    assert cancellation([Term(ONE)], X, y) < 1.0 + 1e-9
    assert terms_loss([Term((Fraction(2),))], X, y) < 1e-20


def test_a_non_finite_column_gives_a_nan_prediction_not_a_lapack_error():
    from nalu_sr.functions.refine import head_prediction

    H = np.column_stack([X_NP[:, 0], np.full(len(X_NP), np.inf)])
    assert np.all(np.isnan(head_prediction(H, X_NP[:, 0])))


def test_weighted_refinement_ignores_rows_of_weight_zero():
    y = 3.0 * np.cos(0.5 * X_NP[:, 0]) + 1.0
    corrupted = y.copy()
    corrupted[::4] = 50.0
    weights = np.where(np.arange(len(y)) % 4 == 0, 0.0, 1.0)
    start = Term((Fraction(0),), COS, Argument(ONE), 0.45, 0.0)
    terms, loss = refine([start], X, corrupted, weights=weights)
    assert loss < 1e-20
    assert abs(float(terms[0].scale) - 0.5) < 1e-8
    _, unweighted_loss = refine([start], X, corrupted)
    assert unweighted_loss > 0.1


def test_weighted_loss_equals_the_loss_on_repeated_rows():
    term = Term((Fraction(0),), SIN, Argument(ONE), 1.0, 0.0)
    y = X_NP[:, 0] ** 2
    weights = np.tile([1.0, 2.0, 3.0, 0.0], 100)
    repeated = np.repeat(np.arange(400), weights.astype(int))
    weighted = terms_loss([term], X, y, weights)
    assert weighted == pytest.approx(terms_loss([term], X[repeated], y[repeated]))


def test_a_flattened_degenerate_term_lets_the_others_refit():
    # x1*(1 - cos(x0)) as refined from a poor start: a sin that is nearly
    # constant stands in for x1, and the cos term bent a little around it.
    # Flattened to x1 alone, the cos term is only exact once refitted.
    X_two = torch.as_tensor(RNG.uniform(1, 5, (400, 2)))
    y = (X_two[:, 1] * (1 - torch.cos(X_two[:, 0]))).numpy()
    x1_factor = (Fraction(0), Fraction(1))
    x0_argument = Argument((Fraction(1), Fraction(0)))
    nearly_constant = Term(x1_factor, SIN, x0_argument, 0.00088, 1.568)
    bent = Term(x1_factor, COS, x0_argument, 1.0000005, 6.2831838)
    terms, loss = simpler_terms([nearly_constant, bent], X_two, y, tol=1e-16)
    assert terms[0] == Term(x1_factor)
    assert loss < 1e-20
    assert abs(float(terms[1].scale) - 1.0) < 1e-8


def _noisy(clean, seed=0):
    rng = np.random.default_rng(seed)
    return clean + rng.normal(0, 0.01 * np.sqrt(np.mean(clean**2)), len(clean))


def test_a_function_that_fits_no_better_than_a_quadratic_gives_way_to_it():
    # (1 - x1**2/x2**2) / x0**2 (the inverse square of a Lorentz factor) under
    # 1% noise: cos(1.5*x1/x2 - 0.03) / x0**2 fits it as well, with one
    # constant more than the two monomials, which are the law.
    rng = np.random.default_rng(1)
    X3 = rng.uniform([1, 1, 3], [5, 2, 10], (1000, 3))
    z = _noisy((1 - X3[:, 1] ** 2 / X3[:, 2] ** 2) / X3[:, 0] ** 2)
    X3_t = torch.as_tensor(X3)
    over_x0_squared = (Fraction(-2), Fraction(0), Fraction(0))
    ratio = Argument((Fraction(0), Fraction(1), Fraction(-1)))
    start = Term(over_x0_squared, COS, ratio, 1.4, 0.0)
    fitted, fitted_loss = refine([start], X3_t, z)
    assert fitted_loss < 1e-3  # within the noise, as the law is
    terms, loss = simpler_terms(fitted, X3_t, z, tol=1e-16)
    assert all(term.primitive is None for term in terms)
    assert Term((Fraction(-2), Fraction(2), Fraction(-2))) in terms
    assert loss < 1.01 * fitted_loss


def test_a_function_law_keeps_its_function_under_noise():
    z = _noisy(np.cos(X_NP[:, 0]))
    start = Term((Fraction(0),), COS, Argument(ONE), 1.0, 0.0)
    terms, _ = simpler_terms([start], X, z, tol=1e-16)
    assert terms == [start]

"""Candidate extraction: the linear head's constants on exact and noisy data."""

from fractions import Fraction

import numpy as np
import sympy
import torch

from nalu_sr.extraction.candidate import Split, extract_candidate
from nalu_sr.units import LinearCombination, LinearOutput, SnappedUnit

ONE, ZERO = Fraction(1), Fraction(0)
x0, x1 = sympy.symbols("x0 x1", real=True)


def _identity_body() -> list[SnappedUnit]:
    """A body whose two hidden features are x0 and x1, so the head is linear."""
    outputs = (
        LinearOutput(LinearCombination((ONE, ZERO), ZERO)),
        LinearOutput(LinearCombination((ZERO, ONE), ZERO)),
    )
    return [SnappedUnit("nau", 2, outputs, 0.0)]


def _extract(y_of, noise: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, size=(2000, 2))
    clean = y_of(X)
    y = clean + rng.normal(0, noise * np.sqrt(np.mean(clean**2)), len(clean))
    split = Split(X[:1600], y[:1600], X[1600:], y[1600:])
    return extract_candidate(
        _identity_body(),
        [x0, x1],
        split,
        architecture="test",
        width=2,
        seed=0,
        tol=1e-10,
    )


def test_noisy_constants_become_the_simple_numbers_they_estimate():
    candidate = _extract(lambda X: X[:, 0] + X[:, 1], noise=0.01)
    assert candidate.expression == x0 + x1


def test_noisy_rational_and_pi_constants_are_recognised():
    candidate = _extract(lambda X: 3 * X[:, 0] / 2 + np.pi * X[:, 1], noise=0.01)
    assert sympy.simplify(candidate.expression - (3 * x0 / 2 + sympy.pi * x1)) == 0


def test_exact_data_keeps_a_constant_that_is_only_close_to_a_simple_number():
    candidate = _extract(lambda X: X[:, 0] + 1.0017 * X[:, 1], noise=0.0)
    coefficient = candidate.expression.coeff(x1)
    assert isinstance(coefficient, sympy.Float)
    assert abs(float(coefficient) - 1.0017) < 1e-9
    assert candidate.expression.coeff(x0) == 1


def test_noisy_constant_far_from_simple_numbers_stays_a_float():
    candidate = _extract(lambda X: X[:, 0] + 0.5371 * X[:, 1], noise=0.001)
    coefficient = candidate.expression.coeff(x1)
    assert isinstance(coefficient, sympy.Float)
    assert abs(float(coefficient) - 0.5371) < 1e-3


def test_a_poor_linear_fit_is_not_pruned_down_to_a_constant():
    # y = sin(3 x0) + x1 / 4: a line explains little of it (relative loss
    # near 0.9), and dropping the x1 term costs less than 1.5x that loss but
    # more than the 0.005 of added loss that pruning may cost.
    candidate = _extract(lambda X: np.sin(3 * X[:, 0]) + X[:, 1] / 4, noise=0.0)
    assert candidate.expression.has(x1)
    assert 0.5 < candidate.validation_loss < 1.0


def test_loose_matching_is_all_or_nothing():
    # 1.00x would match 1 within 1%, but 0.5371 matches no simple number: a
    # formula mixing a loosely matched 1 with a fitted float is not produced.
    candidate = _extract(lambda X: X[:, 0] + 0.5371 * X[:, 1], noise=0.01)
    assert all(
        isinstance(candidate.expression.coeff(symbol), sympy.Float)
        for symbol in (x0, x1)
    )


def test_symbolic_fit_allows_exact_and_one_percent_noise_only():
    from nalu_sr.extraction.candidate import symbolic_fit

    rng = np.random.default_rng(0)
    y = rng.uniform(1, 5, 1000)
    assert symbolic_fit(y, y)
    assert symbolic_fit(y + 0.01 * np.sqrt(np.mean(y**2)) * rng.normal(size=1000), y)
    assert not symbolic_fit(y * 1.05, y)


def test_an_approximation_keeps_decimal_constants():
    from nalu_sr.extraction.candidate import Head, Split, _simplify_constants

    rng = np.random.default_rng(1)
    H = rng.uniform(1, 5, (200, 1))
    # The best head's slope is pi to six digits, but the fit is 10% off.
    y = np.pi * H[:, 0] + 0.3 * np.sqrt(np.mean((np.pi * H[:, 0]) ** 2)) * rng.choice(
        [-1.0, 1.0], 200
    )
    head = Head([0], [3.14159265], 0.0)
    simplified = _simplify_constants(head, H, Split(H, y, H, y), tol=1e-10)
    assert simplified.coefficients == [3.14159265]
    exact_y = np.pi * H[:, 0]
    exact = _simplify_constants(head, H, Split(H, exact_y, H, exact_y), tol=1e-10)
    assert exact.coefficients == [sympy.pi]
    # Told the fit is an approximation, even an exact-looking pi stays a float.
    split = Split(H, exact_y, H, exact_y)
    told = _simplify_constants(head, H, split, tol=1e-10, symbolic=False)
    assert told.coefficients == [3.14159265]


def test_hidden_features_in_blocks_equal_one_pass(monkeypatch):
    import nalu_sr.extraction.candidate as candidate
    from nalu_sr.units import RealNPU

    torch.manual_seed(0)
    unit = RealNPU(3, 2).double()
    X = np.random.default_rng(0).uniform(1, 5, (1000, 3))
    records = [unit.snap(torch.as_tensor(X))]
    whole = candidate.hidden_features(records, X)
    monkeypatch.setattr(candidate, "BLOCK_ROWS", 96)
    np.testing.assert_array_equal(candidate.hidden_features(records, X), whole)


def test_a_caller_judging_the_fit_within_the_noise_allows_loose_matching():
    from nalu_sr.extraction.candidate import LOOSE_MATCH_MAX_LOSS, fit_head

    # 10 + 2*h under 1% noise: the noise is a large share of the target's small
    # variance (relative loss above LOOSE_MATCH_MAX_LOSS), so the head alone
    # keeps its decimals; a caller that judged the fit within the noise on the
    # untransformed target (the function search) gets the law's numbers.
    rng = np.random.default_rng(0)
    H = rng.uniform(1, 2, (8000, 1))
    clean = 10 + 2 * H[:, 0]
    y = clean + rng.normal(0, 0.01 * np.sqrt(np.mean(clean**2)), 8000)
    split = Split(H[:6400], y[:6400], H[6400:], y[6400:])
    own = fit_head(H[:6400], H[6400:], split, [0], tol=1e-16)
    residual = y[6400:] - own.predict(H[6400:])
    assert np.mean(residual**2) / np.var(y[6400:]) > LOOSE_MATCH_MAX_LOSS
    assert isinstance(own.coefficients[0], float)
    told = fit_head(H[:6400], H[6400:], split, [0], tol=1e-16, symbolic=True)
    assert (told.coefficients, told.intercept) == ([2], 10)

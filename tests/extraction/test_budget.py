"""Size and time bounds: no unbounded SymPy step on large formulas or late.

Structural assertions only: the polynomial steps are replaced by functions
that record their calls, so a test shows that they were never started rather
than that they happened to finish fast.
"""

import time
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy

import nalu_sr.extraction.simplify as simplify_module
from nalu_sr.extraction.budget import (
    MAX_POLYNOMIAL_SYMBOLS,
    MAX_POLYNOMIAL_TERMS,
    expanded_terms,
    past,
    polynomial_steps_fit,
)
from nalu_sr.extraction.candidate import Split, extract_candidate
from nalu_sr.extraction.simplify import simplify_checked
from nalu_sr.units import LinearCombination, LinearOutput, ProductOutput, SnappedUnit

XS = sympy.symbols("x0:100", real=True)
a, b, c = XS[:3]
POLYNOMIAL_STEPS = ("cancel", "factor", "simplify")


@pytest.fixture
def started(monkeypatch):
    """Replace the polynomial steps by recorders; return the list of calls."""
    calls: list[str] = []
    for name in POLYNOMIAL_STEPS:

        def record(expr, *args, _name=name, **kwargs):
            calls.append(_name)
            raise AssertionError(f"sympy.{_name} started")

        monkeypatch.setattr(sympy, name, record)
    return calls


def _issue_sets() -> tuple[np.ndarray, np.ndarray]:
    """The overlapping 25-input subsets of the issue's reproduction."""
    perm = np.random.default_rng(4).permutation(100)
    return perm[:25], np.concatenate([perm[12:25], perm[25:37]])


def _product_of_sums() -> sympy.Expr:
    A, B = _issue_sets()
    return sum(XS[i] for i in A) * sum(XS[i] for i in B) * sympy.Float(0.5) + 3


def _points(n_columns: int, n_rows: int = 8) -> np.ndarray:
    return np.random.default_rng(0).uniform(1, 2, (n_rows, n_columns))


def test_expanded_terms_counts_monomials_after_expansion():
    assert expanded_terms(a) == 1
    assert expanded_terms(sympy.Integer(7)) == 1
    assert expanded_terms(a + b + c) == 3
    assert expanded_terms((a + b) * (a + c) + c) == 5
    assert expanded_terms((a + b) ** 3) == 8
    assert expanded_terms(a / (b + c + 1)) == 3  # denominators count too
    assert expanded_terms(sympy.sin(a + b) * (a + b)) == 2  # sin(.) is one term
    assert expanded_terms(a**5 * b**3) == 1
    assert expanded_terms(_product_of_sums(), cap=1000) == 25 * 25 + 1


def test_expanded_terms_stops_at_the_cap():
    assert expanded_terms((a + b + c) ** 1000, cap=10) == 11
    assert expanded_terms(sum(XS), cap=10) == 11
    assert expanded_terms(sum(XS[:50]) * sum(XS[50:]), cap=10) == 11
    assert expanded_terms(sum(XS[:10]), cap=10) == 10


def test_polynomial_steps_fit_bounds_symbols_and_terms():
    assert polynomial_steps_fit(sum(XS[:MAX_POLYNOMIAL_SYMBOLS]))
    assert not polynomial_steps_fit(sum(XS[: MAX_POLYNOMIAL_SYMBOLS + 1]))
    assert not polynomial_steps_fit(_product_of_sums())
    few = (a + b + c) ** 6  # 3**6 = 729 estimated terms over 3 symbols
    assert expanded_terms(few, cap=1000) == 729 > MAX_POLYNOMIAL_TERMS
    assert not polynomial_steps_fit(few)
    assert polynomial_steps_fit((a + b + c) ** 5)  # 243 terms


def test_past_deadline():
    assert not past(None)
    assert past(time.perf_counter())
    assert not past(time.perf_counter() + 60)


def test_the_recorders_see_polynomial_steps_on_small_expressions(started):
    # Without this, the tests below could pass because nothing was recorded.
    quotient = (a**2 - b**2) / (a + b)
    with pytest.warns(UserWarning, match="raised AssertionError: sympy.cancel"):
        assert simplify_checked(quotient, XS[:2], _points(2)) == quotient
    assert started == ["cancel"]


def test_product_of_sums_over_100_symbols_skips_polynomial_steps(started):
    expr = _product_of_sums()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = simplify_checked(expr, XS, _points(100))
    assert started == []
    assert result == sympy.factor_terms(expr)


def test_rational_function_over_100_symbols_skips_polynomial_steps(started):
    # The issue's stall: sympy.cancel on a quotient of such sums ran for minutes.
    expr = _product_of_sums() / (sum(XS[40:90]) + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = simplify_checked(expr, XS, _points(100))
    assert started == []
    assert result == sympy.powsimp(sympy.factor_terms(expr))


def test_large_power_over_few_symbols_skips_polynomial_steps(started):
    expr = (a + b + c + 1) ** 12 - (a + 1) ** 12
    assert simplify_module._steps_for(expr, 200) == (
        sympy.factor_terms,
        sympy.powsimp,
    )
    simplify_checked(expr, XS[:3], _points(3))
    assert started == []


def test_small_expressions_still_get_the_polynomial_steps():
    steps = simplify_module._steps_for((a**2 - b**2) / (a + b), 200)
    assert steps[1:3] == (sympy.cancel, sympy.factor)


def test_no_step_starts_after_the_deadline(monkeypatch):
    def refuse(expr, steps, stop):
        raise AssertionError("a step was planned after the deadline")

    monkeypatch.setattr(simplify_module, "_run_steps", refuse)
    expr = (a**2 - b**2) / (a + b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert simplify_checked(expr, XS[:2], _points(2), deadline=0.0) == expr


def test_the_deadline_shortens_the_time_budget(monkeypatch):
    seen: list[float] = []

    def record(expr, steps, stop):
        seen.append(stop)
        return expr

    monkeypatch.setattr(simplify_module, "_run_steps", record)
    deadline = time.perf_counter() + 30.0
    simplify_checked(a + b, XS[:2], _points(2), timeout_s=1e6, deadline=deadline)
    simplify_checked(a + b, XS[:2], _points(2), timeout_s=0.5, deadline=deadline)
    assert seen[0] == deadline
    assert seen[1] < deadline


def _issue_body() -> list[SnappedUnit]:
    """Two sums over 25 of 100 inputs, then their product: ``y = a*b``."""
    one, zero = Fraction(1), Fraction(0)
    sums = tuple(
        LinearOutput(
            LinearCombination(tuple(one if i in chosen else zero for i in range(100)))
        )
        for chosen in (set(s.tolist()) for s in _issue_sets())
    )
    product = (ProductOutput((one, one)),)
    return [SnappedUnit("nau", 100, sums, 0.0), SnappedUnit("nmu", 2, product, 0.0)]


def _issue_split() -> Split:
    rng = np.random.default_rng(4)
    X = rng.uniform(1, 2, (300, 100))
    A, B = _issue_sets()
    y = X[:, A].sum(1) * X[:, B].sum(1)
    return Split(X[:200], y[:200], X[200:], y[200:])


def test_the_issue_formula_is_extracted_without_polynomial_steps(started):
    candidate = extract_candidate(
        _issue_body(),
        XS,
        _issue_split(),
        architecture="test",
        width=2,
        seed=0,
        tol=1e-10,
    )
    assert started == []
    assert candidate is not None
    A, B = _issue_sets()
    expected = sum(XS[i] for i in A) * sum(XS[i] for i in B)
    assert sympy.expand(candidate.expression - expected) == 0
    assert candidate.validation_loss < 1e-20


def test_extraction_past_the_deadline_keeps_the_emitted_formula(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a simplification step started after the deadline")

    monkeypatch.setattr(simplify_module, "_run_steps", refuse)
    x0, x1 = XS[:2]
    one = Fraction(1)
    body = [SnappedUnit("nmu", 2, (ProductOutput((one, one)),), 0.0)]
    X = np.random.default_rng(0).uniform(1, 2, (40, 2))
    y = 2 * X[:, 0] * X[:, 1]
    split = Split(X[:30], y[:30], X[30:], y[30:])
    candidate = extract_candidate(
        body,
        [x0, x1],
        split,
        architecture="test",
        width=1,
        seed=0,
        tol=1e-10,
        deadline=time.perf_counter() - 1.0,
    )
    assert candidate is not None
    assert candidate.expression == 2 * x0 * x1

from fractions import Fraction

import numpy as np
import sympy
import torch

from nalu_sr.functions.dictionary import build_dictionary, restricted, term_complexity
from nalu_sr.functions.ranking import rank_terms
from nalu_sr.functions.terms import Term
from nalu_sr.primitives import resolve_primitives

PRIMITIVES = resolve_primitives(("add", "mul", "exp", "log", "sin", "cos", "sqrt"))
SYMBOLS = sympy.symbols("x0:2", real=True)
RNG = np.random.default_rng(1)


def test_structural_primitives_are_left_to_the_structure():
    X = RNG.uniform(1, 5, (50, 2))
    names = [p.name for p in build_dictionary(PRIMITIVES, X).primitives]
    assert names == ["exp", "log", "sin", "cos", "sqrt", "identity"]


def test_fractional_powers_only_for_positive_inputs():
    X = np.column_stack([RNG.uniform(1, 5, 50), RNG.uniform(-5, 5, 50)])
    dictionary = build_dictionary(PRIMITIVES, X)
    for exponents in dictionary.factors:
        assert exponents[1].denominator == 1
    assert any(f[0] == Fraction(1, 2) for f in dictionary.factors)


def test_a_restricted_dictionary_reads_one_input():
    X = RNG.uniform(1, 5, (50, 2))
    part = restricted(build_dictionary(PRIMITIVES, X), 1)
    assert all(f[0] == 0 for f in part.factors)
    for argument in part.arguments:
        assert (argument.exponents or argument.weights)[0] == 0


def test_the_true_term_ranks_first():
    X = RNG.uniform(1, 5, (300, 2))
    y = X[:, 1] * np.sin(X[:, 0])
    dictionary = build_dictionary(PRIMITIVES, X)
    empty = np.zeros((300, 0))
    best = rank_terms(dictionary, torch.as_tensor(X), y, empty, 3)
    x0, x1 = SYMBOLS
    assert sympy.nsimplify(best[0].to_sympy(SYMBOLS)) == x1 * sympy.sin(x0)
    assert len(best) == 3


def test_terms_already_chosen_are_not_offered_again():
    X = RNG.uniform(1, 5, (300, 2))
    y = X[:, 0] ** 2 + np.cos(X[:, 1])
    dictionary = build_dictionary(PRIMITIVES, X)
    first = rank_terms(dictionary, torch.as_tensor(X), y, np.zeros((300, 0)), 1)[0]
    fixed = first.values(torch.as_tensor(X)).numpy()[:, None]
    second = rank_terms(
        dictionary, torch.as_tensor(X), y, fixed, 1, frozenset({first.describe()})
    )[0]
    found = {sympy.nsimplify(t.to_sympy(SYMBOLS)) for t in (first, second)}
    assert found == {SYMBOLS[0] ** 2, sympy.cos(SYMBOLS[1])}


def test_complexity_counts_factor_argument_and_function():
    assert term_complexity(Term((Fraction(1), Fraction(0)))) == 1


def test_the_remainder_monomial_is_exact_and_refuses_non_finite_columns():
    from nalu_sr.functions.ranking import residual_monomial

    X = RNG.uniform(1, 5, (200, 3))
    y = X[:, 0] ** 2 * X[:, 2] / X[:, 1]
    empty = np.zeros((200, 0))
    own = residual_monomial(torch.as_tensor(X), y, empty)
    assert own == (Fraction(2), Fraction(-1), Fraction(1))
    broken = np.full((200, 1), np.inf)
    assert residual_monomial(torch.as_tensor(X), y, broken) is None


def test_ranking_weighs_rows():
    X = RNG.uniform(1, 5, (300, 2))
    y = X[:, 1] * np.sin(X[:, 0])
    corrupted = y.copy()
    corrupted[::3] = RNG.normal(0, 30, 100)
    weights = np.where(np.arange(300) % 3 == 0, 0.0, 1.0)
    dictionary = build_dictionary(PRIMITIVES, X)
    empty = np.zeros((300, 0))
    X_torch = torch.as_tensor(X)
    best = rank_terms(dictionary, X_torch, corrupted, empty, 1, weights=weights)
    x0, x1 = SYMBOLS
    assert sympy.nsimplify(best[0].to_sympy(SYMBOLS)) == x1 * sympy.sin(x0)
    unweighted = rank_terms(dictionary, X_torch, corrupted, empty, 1)
    assert sympy.nsimplify(unweighted[0].to_sympy(SYMBOLS)) != x1 * sympy.sin(x0)

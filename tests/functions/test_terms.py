from fractions import Fraction

import numpy as np
import sympy
import torch

from nalu_sr.functions.terms import Argument, Term, monomial, term_matrix
from nalu_sr.primitives import resolve_primitives

SIN, EXP = resolve_primitives(("sin", "exp"))
X = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 4.0]], dtype=torch.float64)
SYMBOLS = sympy.symbols("x0:2", real=True)


def test_term_values_match_hand_computed_ones():
    term = Term(
        (Fraction(1), Fraction(0)), SIN, Argument((Fraction(0), Fraction(1))), 2.0
    )
    expected = [1.0 * np.sin(4.0), 3.0 * np.sin(-2.0), 0.5 * np.sin(8.0)]
    np.testing.assert_allclose(term.values(X).numpy(), expected, rtol=1e-15)


def test_sum_argument_is_a_power_of_a_signed_sum():
    argument = Argument(weights=(1, -1), power=2)
    np.testing.assert_allclose(argument.values(X).numpy(), [1.0, 16.0, 12.25])
    assert argument.to_sympy(SYMBOLS) == (SYMBOLS[0] - SYMBOLS[1]) ** 2


def test_term_formula_uses_exact_constants_once_snapped():
    term = Term(
        (Fraction(0), Fraction(1)),
        EXP,
        Argument((Fraction(1), Fraction(-1))),
        sympy.Rational(-1, 2),
    )
    x0, x1 = SYMBOLS
    assert term.to_sympy(SYMBOLS) == x1 * sympy.exp(-x0 / (2 * x1))


def test_plain_term_is_its_monomial_and_integer_powers_keep_signs():
    term = Term((Fraction(2), Fraction(-1)))
    np.testing.assert_allclose(term.values(X).numpy(), [0.5, -9.0, 0.0625])
    assert term.to_sympy(SYMBOLS) == SYMBOLS[0] ** 2 / SYMBOLS[1]
    assert term_matrix([term, term], X).shape == (3, 2)
    np.testing.assert_allclose(monomial(X, (Fraction(0), Fraction(0))).numpy(), 1.0)


def test_describe_ignores_constants_and_tells_structures_apart():
    a = Term((Fraction(1), Fraction(0)), SIN, Argument((Fraction(0), Fraction(1))), 1.0)
    b = a.with_constants(2.0, 0.5)
    c = Term((Fraction(0), Fraction(0)), SIN, Argument((Fraction(0), Fraction(1))), 1.0)
    assert a.describe() == b.describe() != c.describe()

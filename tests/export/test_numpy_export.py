"""CallableExpression: predictions in floating point, never exact giant numbers."""

import math
import warnings

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

from nalu_sr.export.numpy import CallableExpression

x0, x1 = sympy.symbols("x0 x1", real=True)
X = np.array([[2.0, 0.0], [3.0, 1.0]])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Each of these raised OverflowError or KeyError in predict before.
        (sympy.Integer(10) ** 400 + x0, [math.inf, math.inf]),
        (sympy.Pow(2, 5000, evaluate=False) * x0, [math.inf, math.inf]),
        (sympy.Rational(-(10**400), 3) + x0, [-math.inf, -math.inf]),
        (sympy.zoo * x0, [math.nan, math.nan]),
        # Ordinary formulas keep their values.
        (sympy.Rational(3, 10**400) * x0 + 1, [1.0, 1.0]),
        (x0**2 + x1 ** sympy.Rational(1, 3), [4.0, 10.0]),
        (-3 * sympy.pi * x0 / 2, [-3 * math.pi, -4.5 * math.pi]),
        (x0 / x1, [math.inf, 3.0]),
    ],
)
def test_odd_formulas_evaluate_in_floating_point(expression, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = CallableExpression(expression, [x0, x1])(X)
    np.testing.assert_array_equal(values, np.array(expected))


# Integers of up to 300 digits: the most a model file may hold.
_numbers = st.one_of(
    st.integers(-(10**300), 10**300).map(sympy.Integer),
    st.tuples(st.integers(-(10**300), 10**300), st.integers(1, 10**300)).map(
        lambda pair: sympy.Rational(*pair)
    ),
    st.sampled_from([sympy.pi, sympy.E, sympy.zoo, sympy.oo, sympy.nan]),
)
_leaves = st.one_of(st.sampled_from([x0, x1]), _numbers)


def _extend(children):
    def unevaluated(function):
        return lambda pair: function(*pair, evaluate=False)

    return st.one_of(
        st.tuples(children, children).map(unevaluated(sympy.Add)),
        st.tuples(children, children).map(unevaluated(sympy.Mul)),
        st.tuples(children, children).map(unevaluated(sympy.Pow)),
        children.map(lambda child: sympy.exp(child, evaluate=False)),
        children.map(lambda child: sympy.log(child, evaluate=False)),
    )


@given(st.recursive(_leaves, _extend, max_leaves=8))
def test_any_formula_of_numbers_evaluates_or_says_why(expression):
    try:
        values = CallableExpression(expression, [x0, x1])(X)
    except ValueError as error:
        assert str(error).startswith("cannot evaluate the formula ")
    else:
        assert values.shape == (2,) and values.dtype == np.float64


def test_a_formula_numpy_cannot_evaluate_is_one_clear_error():
    product = sympy.Mul(x0, sympy.exp(sympy.zoo, evaluate=False), evaluate=False)
    formula = sympy.log(product, evaluate=False)
    with pytest.raises(ValueError, match=r"^cannot evaluate the formula log\("):
        CallableExpression(formula, [x0, x1])(X)


def test_a_formula_sympy_cannot_print_is_named_by_its_tree():
    # SymPy's printer orders the factors and a NaN among them cannot be ordered.
    formula = sympy.Mul(
        sympy.nan, sympy.Pow(2, sympy.nan, evaluate=False), sympy.zoo, evaluate=False
    )
    with pytest.raises(ValueError, match=r"^cannot evaluate the formula Mul\(nan, "):
        CallableExpression(formula, [x0, x1])(X)

import pickle
import sys

import numpy as np
import pytest
import sympy

from nalu_sr import NALURegressor
from nalu_sr.export.jax import JaxExpression, sympy_to_jax
from nalu_sr.export.numpy import CallableExpression

x0, x1, x2 = sympy.symbols("x0 x1 x2", real=True)
SYMBOLS = (x0, x1, x2)

FORMULAS = [
    x0 * x1 / (4 * sympy.pi),
    sympy.sqrt(x0) + sympy.Float(1.5) * x1**2 - x2 / 3,
    sympy.exp(-x0) * sympy.sin(x1) + sympy.cos(x2) ** 3,
    sympy.log(x0 + x1) * sympy.tanh(x2) / sympy.sinh(x1),
    sympy.Abs(x0 - x1) + sympy.Max(x0, x1, x2) - sympy.Min(x1, x2),
    x0 ** sympy.Rational(3, 2) + x1 ** sympy.Float(0.7) + x2**x0,
    sympy.Piecewise((x0, x1 > x2), (-x0, sympy.And(x1 <= x2, x0 > 1)), (0, True)),
    sympy.Float(2.5) * x0 + sympy.Float(2.5) * x1 + sympy.E,
    sympy.Integer(7),
    sympy.sign(x0 - 2) * sympy.tan(x1 / 4),
]


@pytest.fixture
def jax():
    jax = pytest.importorskip("jax")
    # Compare with NumPy in float64; JAX's default is float32.
    with jax.enable_x64(True):
        yield jax


def _inputs(n_rows=50, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 3.0, size=(n_rows, 3))


@pytest.mark.parametrize("expression", FORMULAS, ids=str)
def test_values_equal_the_numpy_callable(jax, expression):
    X = _inputs()
    function = sympy_to_jax(expression, SYMBOLS)
    expected = CallableExpression(expression, SYMBOLS)(X)
    values = np.asarray(function(X))
    assert values.dtype == np.float64 and values.shape == (len(X),)
    np.testing.assert_allclose(values, expected, rtol=1e-13, atol=1e-15)


def test_float32_by_default():
    pytest.importorskip("jax")
    function = sympy_to_jax(sympy.Float(1.23456789) * x0 + 1, SYMBOLS)
    X = _inputs()
    values = function(X)
    assert str(values.dtype) == "float32" and str(function.constants.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(values), 1.23456789 * X[:, 0] + 1, rtol=1e-6)
    # Constants that float32 cannot hold exactly still read back unchanged.
    assert function.sympy(function.constants) == function.expression


@pytest.mark.parametrize("expression", FORMULAS[:3], ids=str)
def test_jit_gives_the_same_values(jax, expression):
    function = sympy_to_jax(expression, SYMBOLS)
    X = _inputs()
    compiled = jax.jit(function.function)
    # XLA may fuse operations differently: equal up to rounding.
    np.testing.assert_allclose(compiled(X, function.constants), function(X), rtol=1e-14)
    np.testing.assert_allclose(jax.jit(function)(X), function(X), rtol=1e-14)


def test_grad_of_a_known_formula_is_the_hand_derivative(jax):
    # f = c * x0**2 * x1 + sin(x1), c = 2.5
    function = sympy_to_jax(sympy.Float(2.5) * x0**2 * x1 + sympy.sin(x1), SYMBOLS)
    X = _inputs(n_rows=8)
    c = function.constants

    def row_value(row, constants):
        return function.function(row[None, :], constants)[0]

    by_input = jax.vmap(jax.grad(row_value), in_axes=(0, None))(X, c)
    np.testing.assert_allclose(by_input[:, 0], 5.0 * X[:, 0] * X[:, 1], rtol=1e-14)
    np.testing.assert_allclose(
        by_input[:, 1], 2.5 * X[:, 0] ** 2 + np.cos(X[:, 1]), rtol=1e-14
    )
    np.testing.assert_array_equal(by_input[:, 2], 0.0)
    by_constant = jax.grad(lambda k: function.function(X, k).sum())(c)
    np.testing.assert_allclose(by_constant, [np.sum(X[:, 0] ** 2 * X[:, 1])])


def test_constants_round_trip(jax):
    expression = sympy.Float(2.5) * x0 + sympy.Float(2.5) * x1 + sympy.Float(-0.125)
    function = sympy_to_jax(expression, SYMBOLS)
    # In the order SymPy's Add holds its terms (the number first); 2.5 is shared.
    np.testing.assert_array_equal(function.constants, [-0.125, 2.5])
    assert function.sympy() == expression
    assert function.sympy(function.constants) == expression
    shift = np.array([0.0, 1.0])
    moved = function.sympy(function.constants + shift)
    assert moved == sympy.Float(3.5) * x0 + sympy.Float(3.5) * x1 + sympy.Float(-0.125)
    fitted = sympy_to_jax(moved, SYMBOLS)
    np.testing.assert_array_equal(fitted.constants, [-0.125, 3.5])
    X = _inputs()
    np.testing.assert_array_equal(fitted(X), function(X, function.constants + shift))


def test_gradient_descent_on_the_constants_recovers_them(jax):
    function = sympy_to_jax(sympy.Float(0.5) * x0 + sympy.Float(0.25) * x1, SYMBOLS)
    X = _inputs()
    y = 3.0 * X[:, 0] - 2.0 * X[:, 1]

    @jax.jit
    def step(constants):
        loss = lambda k: ((function.function(X, k) - y) ** 2).mean()  # noqa: E731
        return constants - 0.1 * jax.grad(loss)(constants)

    constants = function.constants
    for _ in range(500):
        constants = step(constants)
    fitted = function.sympy(constants)
    assert float(fitted.coeff(x0)) == pytest.approx(3.0, rel=1e-6)
    assert float(fitted.coeff(x1)) == pytest.approx(-2.0, rel=1e-6)


def test_pickles_and_keeps_working(jax):
    function = sympy_to_jax(FORMULAS[1], SYMBOLS)
    restored = pickle.loads(pickle.dumps(function))
    X = _inputs()
    np.testing.assert_array_equal(restored(X), function(X))
    assert repr(restored) == f"JaxExpression({FORMULAS[1]})"


@pytest.mark.parametrize(
    ("expression", "symbols", "message"),
    [
        (sympy.gamma(x0), SYMBOLS, "cannot convert SymPy node 'gamma' to JAX"),
        (x0 + x2, (x0, x1), r"symbol x2 is not among the module's symbols"),
        (x0 > x1, SYMBOLS, "a truth value was used where a number is needed"),
    ],
)
def test_unconvertible_formulas_are_named(jax, expression, symbols, message):
    with pytest.raises(ValueError, match=message):
        sympy_to_jax(expression, symbols)(np.ones((2, len(symbols))))


def test_wrong_shapes_are_refused(jax):
    function = sympy_to_jax(sympy.Float(2.0) * x0, SYMBOLS)
    with pytest.raises(ValueError, match=r"expected an input of shape \(n, 3\), got"):
        function(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"expected 1 constants, got shape \(2,\)"):
        function(np.ones((4, 3)), np.ones(2))


def test_integer_inputs_become_floats(jax):
    values = sympy_to_jax(x0 / 2, SYMBOLS)(np.array([[1, 0, 0], [3, 0, 0]]))
    np.testing.assert_array_equal(values, [0.5, 1.5])


def test_estimator_to_jax_predicts_the_same(jax):
    X = np.random.default_rng(0).uniform(1, 5, size=(100, 1))
    y = 1.23456789 * X[:, 0] + 0.1
    fast = {"max_iter": 30, "n_restarts": 1, "architectures": ("power",)}
    model = NALURegressor(**fast, hidden_widths=(1,), random_state=0).fit(X, y)
    function = model.to_jax()
    assert function.expression == model.expression_
    assert function.symbols == tuple(model.feature_symbols_)
    np.testing.assert_allclose(function.constants, [0.1, 1.23456789], rtol=1e-14)
    np.testing.assert_allclose(function(X), model.predict(X), rtol=1e-14)
    last = len(model.equations_) - 1
    np.testing.assert_allclose(
        model.to_jax(last)(X), model.to_callable(last)(X), rtol=1e-14
    )


def test_missing_jax_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "jax.numpy", None)
    with pytest.raises(ImportError, match=r"pip install nalu_sr\[jax\]"):
        JaxExpression(x0, SYMBOLS)

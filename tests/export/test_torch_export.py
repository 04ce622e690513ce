import copy
import pickle

import numpy as np
import pytest
import sympy
import torch
from hypothesis import example, given, settings, strategies as st

from nalu_sr.export.serialize import ALLOWED_FUNCTIONS
from nalu_sr.export.torch import SympyModule, sympy_to_torch

x0, x1, x2 = sympy.symbols("x0 x1 x2", real=True)
a, b = sympy.symbols("a b", real=True)
RNG_SEED = 1234


def _inputs(n_columns, low=0.5, high=2.0, n_rows=64):
    rng = np.random.default_rng(RNG_SEED)
    return rng.uniform(low, high, size=(n_rows, n_columns))


def _numpy_reference(expression, symbols, X):
    function = sympy.lambdify(symbols, expression, "numpy")
    with np.errstate(all="ignore"):
        values = function(*X.T)
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (X.shape[0],))


def _torch_values(module, X):
    with torch.no_grad():
        return module(torch.as_tensor(X)).numpy()


# --- hand examples ----------------------------------------------------------


def test_coulomb_like_formula_matches_numpy():
    expression = x0 * x1 / (4 * sympy.pi * x2**2)
    X = _inputs(3)
    module = sympy_to_torch(expression, [x0, x1, x2])
    out = _torch_values(module, X)
    assert out.shape == (X.shape[0],)
    assert out.dtype == np.float64
    np.testing.assert_allclose(
        out, _numpy_reference(expression, [x0, x1, x2], X), rtol=1e-12, atol=0
    )
    assert len(list(module.parameters())) == 0


def test_floats_are_parameters_and_exact_numbers_are_not():
    expression = (
        sympy.Float(1.25) * x0
        + sympy.Float(-0.5) * sympy.sin(x1) ** 2
        + sympy.Rational(3, 7) * x0 * x1
        + sympy.pi * sympy.sqrt(x1)
        + 5
    )
    module = SympyModule(expression, [x0, x1])
    parameters = list(module.parameters())
    assert len(parameters) == 2
    assert all(p.requires_grad and p.dtype == torch.float64 for p in parameters)
    assert sorted(p.item() for p in parameters) == [-0.5, 1.25]
    # exact numbers live in a buffer that is not trained
    assert not module.exact_constants.requires_grad
    X = _inputs(2)
    np.testing.assert_allclose(
        _torch_values(module, X),
        _numpy_reference(expression, [x0, x1], X),
        rtol=1e-12,
    )


def test_gradients_reach_the_parameters():
    expression = sympy.Float(2.0) * sympy.exp(sympy.Float(0.5) * x0)
    module = sympy_to_torch(expression, [x0])
    module(torch.as_tensor(_inputs(1))).sum().backward()
    for parameter in module.parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad)


def test_piecewise_evaluates_each_branch():
    expression = sympy.Piecewise(
        (x0**2, sympy.And(x0 > 0, x1 <= 1)),
        (-x0, sympy.Or(sympy.Eq(x1, 3), x0 < -2)),
        (sympy.Float(7.5), True),
    )
    module = sympy_to_torch(expression, [x0, x1])
    X = np.array([[2.0, 0.5], [2.0, 1.5], [-1.0, 3.0], [-3.0, 5.0], [-1.0, 5.0]])
    expected = [4.0, 7.5, 1.0, 3.0, 7.5]
    np.testing.assert_array_equal(_torch_values(module, X), expected)
    np.testing.assert_array_equal(_numpy_reference(expression, [x0, x1], X), expected)


def test_piecewise_without_default_is_nan_where_no_condition_holds():
    module = sympy_to_torch(sympy.Piecewise((x0, x0 > 1)), [x0])
    out = _torch_values(module, np.array([[2.0], [0.0]]))
    assert out[0] == 2.0 and np.isnan(out[1])


def test_other_supported_functions_match_numpy():
    expression = (
        sympy.log(x0) + sympy.tan(x1 / 2) + sympy.tanh(x0) + sympy.sinh(x1)
        + sympy.cosh(x0) - sympy.cos(x1) + sympy.sign(x0 - 1)
        + sympy.Max(x0, x1, 1) * sympy.Min(x0, x1) + x0**x1 + 2**x0
        + x1 ** sympy.Rational(1, 3) + 1 / sympy.sqrt(x0) + x0 ** sympy.Float(1.5)
        + sympy.E ** sympy.Abs(x1 - 1)
    )  # fmt: skip
    module = sympy_to_torch(expression, [x0, x1])
    X = _inputs(2)
    np.testing.assert_allclose(
        _torch_values(module, X),
        _numpy_reference(expression, [x0, x1], X),
        rtol=1e-12,
    )


def test_every_whitelisted_function_is_supported():
    samples = {
        "Add": x0 + x1,
        "Mul": x0 * x1,
        "Pow": x0**x1,
        "Piecewise": sympy.Piecewise((x0, sympy.Ne(x0, 1)), (x1, True)),
        "GreaterThan": sympy.Piecewise((x0, x0 >= x1), (x1, True)),
        "StrictGreaterThan": sympy.Piecewise((x0, x0 > x1), (x1, True)),
        "LessThan": sympy.Piecewise((x0, x0 <= x1), (x1, True)),
        "StrictLessThan": sympy.Piecewise((x0, x0 < x1), (x1, True)),
        "Equality": sympy.Piecewise((x0, sympy.Eq(x0, x1)), (x1, True)),
        "Unequality": sympy.Piecewise((x0, sympy.Ne(x0, x1)), (x1, True)),
        "And": sympy.Piecewise((x0, (x0 > 1) & (x1 > 1)), (x1, True)),
        "Or": sympy.Piecewise((x0, (x0 > 1) | (x1 > 1)), (x1, True)),
        "Not": sympy.Piecewise((x0, sympy.Not(sympy.Eq(x0, x1))), (x1, True)),
        "Max": sympy.Max(x0, x1),
        "Min": sympy.Min(x0, x1),
    }
    X = _inputs(2)
    for name, cls in ALLOWED_FUNCTIONS.items():
        expression = samples[name] if name in samples else cls(x0 + x1)
        module = sympy_to_torch(expression, [x0, x1])
        np.testing.assert_allclose(
            _torch_values(module, X),
            _numpy_reference(expression, [x0, x1], X),
            rtol=1e-12,
            err_msg=name,
        )


@pytest.mark.parametrize(
    ("expression", "name"),
    [
        (sympy.gamma(x0), "gamma"),
        (x0 + sympy.erf(x1), "erf"),
        (sympy.I * x0, "ImaginaryUnit"),
    ],
)
def test_unsupported_node_raises_naming_it(expression, name):
    with pytest.raises(ValueError, match=name):
        SympyModule(expression, [x0, x1])


def test_unknown_symbol_raises():
    with pytest.raises(ValueError, match="x2"):
        SympyModule(x0 + x2, [x0, x1])


def test_input_shape_is_checked():
    module = SympyModule(x0 + x1, [x0, x1])
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        module(torch.zeros(4, 3))


def test_several_expressions_give_columns():
    expressions = [x0 + x1, sympy.Float(2.0) * x0, sympy.Integer(3)]
    module = SympyModule(expressions, [x0, x1])
    X = _inputs(2)
    out = _torch_values(module, X)
    assert out.shape == (X.shape[0], 3)
    np.testing.assert_allclose(out[:, 0], X[:, 0] + X[:, 1], rtol=1e-15)
    np.testing.assert_allclose(out[:, 1], 2 * X[:, 0], rtol=1e-15)
    np.testing.assert_array_equal(out[:, 2], 3.0)
    assert module.sympy() == expressions


def test_constant_formula_has_one_value_per_row():
    module = SympyModule(sympy.Float(1.5), [x0])
    assert _torch_values(module, _inputs(1, n_rows=5)).tolist() == [1.5] * 5


def test_shared_subexpressions_are_one_node():
    shared = sympy.sin(x0 * x1 + sympy.Float(0.25))
    module = SympyModule([shared**2 + shared, sympy.exp(shared)], [x0, x1])
    sin_nodes = [node for node in module._program if node.op == "sin"]
    assert len(sin_nodes) == 1
    assert len(list(module.parameters())) == 1


def test_follows_input_dtype():
    module = SympyModule(sympy.Float(0.1) * x0 + sympy.Rational(1, 3), [x0])
    out = module(torch.ones(3, 1, dtype=torch.float32))
    assert out.dtype == torch.float32
    assert module.constants[0].dtype == torch.float64
    assert module(torch.ones(2, 1, dtype=torch.int64)).dtype == torch.float64


def test_pickle_and_deepcopy():
    expression = sympy.Float(1.5) * sympy.sin(x0) + sympy.Piecewise(
        (x1, x1 > 1), (sympy.Rational(1, 2), True)
    )
    module = SympyModule(expression, [x0, x1])
    X = torch.as_tensor(_inputs(2))
    for clone in (pickle.loads(pickle.dumps(module)), copy.deepcopy(module)):
        torch.testing.assert_close(clone(X), module(X), rtol=0, atol=0)
        assert clone.sympy() == expression
        with torch.no_grad():
            clone.constants[0].fill_(3.0)
        assert module.constants[0].item() == 1.5


# --- round trip -------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        x0 * x1 / (4 * sympy.pi * x2**2),
        sympy.Float(3.14159) * x0**2 + sympy.Float(-0.001) * x1,
        sympy.exp(-sympy.Float(0.5) * x0) * sympy.cos(sympy.Float(2.0) * x1 + x2),
        sympy.sqrt(x0**2 + x1**2) + sympy.Float(1e-8),
        sympy.Piecewise((sympy.Float(1.5) * x0, x0 > x1), (x2, True)),
        sympy.Float("0.1", 30) * x0,
        sympy.Integer(7),
        sympy.Add(sympy.Mul(sympy.Float(1.0), x0), sympy.Float(0.0), evaluate=False),
    ],
)
def test_round_trip_returns_the_same_formula(expression):
    module = SympyModule(expression, [x0, x1, x2])
    assert module.sympy() == expression


def test_round_trip_reads_back_updated_constants():
    expression = sympy.Float(1.5) * x0 + sympy.Float(0.25) * sympy.sin(x1)
    module = SympyModule(expression, [x0, x1])
    with torch.no_grad():
        for parameter in module.constants:
            parameter.mul_(2)
    updated = module.sympy()
    assert updated == sympy.Float(3.0) * x0 + sympy.Float(0.5) * sympy.sin(x1)
    X = torch.as_tensor(_inputs(2))
    torch.testing.assert_close(SympyModule(updated, [x0, x1])(X), module(X))


# --- property test ----------------------------------------------------------

leaves = st.one_of(
    st.sampled_from([a, b]),
    st.integers(-4, 4).map(sympy.Integer),
    st.fractions(min_value=-3, max_value=3, max_denominator=7).map(
        lambda f: sympy.Rational(f.numerator, f.denominator)
    ),
    st.floats(-3, 3, allow_nan=False, allow_infinity=False).map(sympy.Float),
)


def _extend(children):
    return st.one_of(
        st.tuples(children, children).map(lambda p: sympy.Add(*p)),
        st.tuples(children, children).map(lambda p: sympy.Mul(*p)),
        st.tuples(children, st.integers(-2, 3)).map(lambda p: p[0] ** p[1]),
        children.map(sympy.sin),
        children.map(lambda e: sympy.exp(sympy.sin(e))),
        children.map(sympy.Abs),
    )


expressions = st.recursive(leaves, _extend, max_leaves=10)


@settings(max_examples=50, deadline=None)
@given(expressions)
@example(sympy.exp(sympy.sin(sympy.Abs(sympy.Integer(0) ** -1))))  # seed 16's find
def test_module_matches_lambdify_and_round_trips(expression):
    if expression.has(sympy.AccumBounds):
        # e.g. sin(Abs(0**-1)) = sin(oo): an interval, refused by name
        with pytest.raises(ValueError, match="'AccumulationBounds' to torch"):
            SympyModule(expression, [a, b])
        return
    module = SympyModule(expression, [a, b])
    assert module.sympy() == expression
    assert len(list(module.parameters())) == len(expression.atoms(sympy.Float))
    X = _inputs(2, n_rows=32)
    reference = _numpy_reference(expression, [a, b], X)
    out = _torch_values(module, X)
    usable = np.isfinite(reference) & (np.abs(reference) < 1e8)
    np.testing.assert_allclose(out[usable], reference[usable], rtol=1e-9, atol=1e-12)


# --- fine-tuning ------------------------------------------------------------


def test_fine_tuning_recovers_constants():
    c, d = sympy.Float(1.0), sympy.Float(0.0)
    expression = sympy.Add(sympy.Mul(c, x0), d, evaluate=False)
    module = SympyModule(expression, [x0])
    assert len(module.constants) == 2
    X = torch.as_tensor(_inputs(1, low=-2.0, high=2.0))
    y = 2.5 * X[:, 0] + 0.5
    optimizer = torch.optim.LBFGS(
        module.parameters(), max_iter=200, line_search_fn="strong_wolfe"
    )

    def closure():
        optimizer.zero_grad()
        loss = torch.mean((module(X) - y) ** 2)
        loss.backward()
        return loss

    optimizer.step(closure)
    fitted = module.sympy()
    slope = fitted.coeff(x0)
    intercept = fitted.subs(x0, 0)
    assert abs(float(slope) - 2.5) < 1e-4
    assert abs(float(intercept) - 0.5) < 1e-4
    assert fitted.atoms(sympy.Float) == {slope, intercept}


def test_complex_infinity_evaluates_to_nan_and_round_trips():
    """Regression: hypothesis built ``zoo`` (e.g. ``0**-1``), which was rejected."""
    for expression in (sympy.zoo, sympy.Symbol("a", real=True) + sympy.zoo):
        module = sympy_to_torch(expression, [sympy.Symbol("a", real=True)])
        values = module(torch.ones(3, 1, dtype=torch.float64))
        assert torch.isnan(values).all()
        assert module.sympy() == expression


@pytest.mark.parametrize(
    ("build", "bounds"),
    [
        # The chain hypothesis found: 0**-1 is zoo, Abs(zoo) is oo, sin(oo) an interval.
        (lambda: sympy.sin(sympy.Abs(sympy.Integer(0) ** -1)), "AccumBounds(-1, 1)"),
        (lambda: sympy.exp(sympy.sin(sympy.oo)), "AccumBounds(exp(-1), E)"),
        (lambda: a + sympy.cos(-sympy.oo), "AccumBounds(a - 1, a + 1)"),
    ],
)
def test_accumulation_bounds_are_refused_naming_the_node(build, bounds):
    """Regression: ``--hypothesis-seed=16`` built exp(sin(Abs(zoo))), an interval."""
    expression = build()
    assert isinstance(expression, sympy.AccumBounds)
    with pytest.raises(ValueError) as raised:
        SympyModule(expression, [a, b])
    assert str(raised.value) == (
        f"cannot convert SymPy node 'AccumulationBounds' to torch: {bounds} is an "
        "interval of values, not a number (SymPy builds one for a function such "
        "as sin of an infinite argument)"
    )


def test_accumulation_bounds_inside_a_formula_are_refused():
    expression = sympy.Add(b, sympy.sin(sympy.oo), evaluate=False) * sympy.exp(a)
    assert expression.has(sympy.AccumBounds)
    with pytest.raises(ValueError, match=r"AccumBounds\(-1, 1\) is an interval"):
        SympyModule(expression, [a, b])


def test_sin_of_complex_infinity_itself_is_nan():
    """sin(zoo) is SymPy's nan, not an interval: it evaluates like ``zoo``."""
    expression = sympy.sin(sympy.zoo)
    assert expression is sympy.nan
    module = sympy_to_torch(expression, [a])
    assert torch.isnan(module(torch.ones(2, 1, dtype=torch.float64))).all()

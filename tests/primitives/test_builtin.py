"""Properties of every built-in primitive, plus hand-computed values."""

import math
import pickle

import numpy as np
import pytest
import sympy
import torch

from nalu_sr.primitives import BUILTIN_PRIMITIVES, Primitive, check_primitive
from nalu_sr.primitives._builtin import MAX_EXP_ARGUMENT, PROTECTION_EPS

BUILTINS = list(BUILTIN_PRIMITIVES)
BUILTIN_IDS = [primitive.name for primitive in BUILTINS]

#: Built-ins whose real domain is the positive half-line.
POSITIVE_DOMAIN = {"sqrt", "log"}

#: Hard inputs for the training-safe versions.
HARD_VALUES = {
    "zeros": 0.0,
    "negative": -1.5,
    "tiny negative": -1e-12,
    "tiny positive": 1e-12,
    "large": 1e6,
    "large negative": -1e6,
}


def domain_points(primitive, n=50, seed=0):
    """Points of shape (arity, n) inside the primitive's real domain.

    Magnitudes stay in [0.25, 3], away from zero, so that denominators are
    nonzero and protected versions are not in their protected region.
    """
    generator = np.random.default_rng(seed)
    magnitudes = generator.uniform(0.25, 3.0, size=(primitive.arity, n))
    if primitive.name in POSITIVE_DOMAIN:
        return magnitudes
    signs = generator.choice([-1.0, 1.0], size=(primitive.arity, n))
    return magnitudes * signs


def lambdified(primitive):
    symbols = sympy.symbols(f"x0:{primitive.arity}", real=True)
    expression = primitive.to_sympy(*symbols)
    return sympy.lambdify(symbols, expression, modules="numpy")


def as_tensors(points):
    return [torch.tensor(row, dtype=torch.float64) for row in points]


def test_builtin_names_are_unique_identifiers():
    names = BUILTIN_PRIMITIVES.names
    assert len(set(names)) == len(names) == len(BUILTIN_PRIMITIVES)
    assert all(name.isidentifier() for name in names)
    assert set(names) == {
        "identity", "neg", "add", "sub", "mul", "div", "inv", "square",
        "cube", "sqrt", "exp", "log", "sin", "cos", "tanh", "abs",
    }  # fmt: skip


@pytest.mark.parametrize("primitive", BUILTINS, ids=BUILTIN_IDS)
class TestEveryBuiltin:
    def test_is_a_primitive_with_sane_fields(self, primitive):
        assert isinstance(primitive, Primitive)
        assert primitive.arity in (1, 2)
        assert math.isfinite(primitive.complexity)
        assert primitive.complexity >= 0

    def test_exact_torch_agrees_with_lambdified_sympy(self, primitive):
        points = domain_points(primitive)
        expected = np.asarray(lambdified(primitive)(*points), dtype=np.float64)
        expected = np.broadcast_to(expected, points.shape[1:])
        actual = primitive.exact_forward(*as_tensors(points))
        assert actual.dtype == torch.float64
        assert actual.shape == (points.shape[1],)
        assert np.isfinite(expected).all()
        np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-9, atol=0)

    def test_safe_agrees_with_exact_inside_the_domain(self, primitive):
        args = as_tensors(domain_points(primitive, seed=1))
        np.testing.assert_allclose(
            primitive.train_forward(*args).numpy(),
            primitive.exact_forward(*args).numpy(),
            rtol=1e-12,
            atol=0,
        )

    def test_sympy_version_returns_an_expression(self, primitive):
        symbols = sympy.symbols(f"x0:{primitive.arity}")
        expression = primitive.to_sympy(*symbols)
        assert isinstance(expression, sympy.Expr)
        assert expression.free_symbols <= set(symbols)

    @pytest.mark.parametrize("label", sorted(HARD_VALUES))
    def test_safe_is_finite_with_finite_gradients(self, primitive, label):
        value = HARD_VALUES[label]
        args = [
            torch.full((5,), value, dtype=torch.float64, requires_grad=True)
            for _ in range(primitive.arity)
        ]
        output = primitive.train_forward(*args)
        assert output.shape == (5,)
        assert torch.isfinite(output).all(), output
        if output.requires_grad:  # identity-like ones still depend on inputs
            gradients = torch.autograd.grad(output.sum(), args, allow_unused=True)
            for gradient in gradients:
                assert gradient is not None
                assert torch.isfinite(gradient).all(), gradient

    def test_safe_is_finite_on_mixed_hard_points(self, primitive):
        grid = torch.tensor(list(HARD_VALUES.values()), dtype=torch.float64)
        mesh = torch.meshgrid(*([grid] * primitive.arity), indexing="ij")
        args = [axis.reshape(-1).clone().requires_grad_(True) for axis in mesh]
        output = primitive.train_forward(*args)
        assert torch.isfinite(output).all()
        gradients = torch.autograd.grad(output.sum(), args)
        assert all(torch.isfinite(gradient).all() for gradient in gradients)

    def test_passes_check_primitive(self, primitive):
        assert check_primitive(primitive) is None

    def test_pickles_by_reference(self, primitive):
        restored = pickle.loads(pickle.dumps(primitive))
        assert restored == primitive
        assert restored.torch_fn is primitive.torch_fn
        assert restored.safe_torch_fn is primitive.safe_torch_fn


def get(name):
    return BUILTIN_PRIMITIVES.get(name)


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_exact_div_of_six_by_three_is_two():
    assert get("div").exact_forward(t(6.0), t(3.0)).item() == 2.0


def test_safe_div_of_one_by_zero_is_finite_and_protected():
    value = get("div").train_forward(t(1.0), t(0.0)).item()
    assert math.isfinite(value)
    assert value == pytest.approx(1.0 / PROTECTION_EPS)


def test_safe_div_keeps_the_sign_of_a_small_negative_denominator():
    value = get("div").train_forward(t(1.0), t(-1e-9)).item()
    assert value == pytest.approx(-1.0 / PROTECTION_EPS)


def test_exact_div_and_inv_by_zero_are_infinite():
    assert get("div").exact_forward(t(1.0), t(0.0)).item() == math.inf
    assert get("inv").exact_forward(t(0.0)).item() == math.inf


def test_safe_inv_of_zero_is_protected():
    assert get("inv").train_forward(t(0.0)).item() == pytest.approx(1e3)
    assert get("inv").exact_forward(t(4.0)).item() == 0.25


def test_sqrt_of_four_is_two():
    assert get("sqrt").exact_forward(t(4.0)).item() == 2.0
    assert get("sqrt").train_forward(t(4.0)).item() == 2.0


def test_exact_sqrt_of_negative_is_nan_but_safe_uses_the_magnitude():
    assert math.isnan(get("sqrt").exact_forward(t(-4.0)).item())
    assert get("sqrt").train_forward(t(-4.0)).item() == 2.0
    assert get("sqrt").train_forward(t(0.0)).item() == pytest.approx(PROTECTION_EPS)


def test_safe_log_is_floored_and_symmetric():
    log = get("log")
    assert log.train_forward(t(0.0)).item() == pytest.approx(math.log(PROTECTION_EPS))
    assert log.train_forward(t(-math.e)).item() == pytest.approx(1.0)
    assert math.isnan(log.exact_forward(t(-1.0)).item())
    assert log.exact_forward(t(0.0)).item() == -math.inf


def test_safe_exp_is_clamped():
    exp = get("exp")
    assert exp.train_forward(t(100.0)).item() == pytest.approx(
        math.exp(MAX_EXP_ARGUMENT)
    )
    assert exp.exact_forward(t(1e6)).item() == math.inf
    assert exp.train_forward(t(1.0)).item() == pytest.approx(math.e)


def test_power_primitives():
    assert get("square").exact_forward(t(-3.0)).item() == 9.0
    assert get("cube").exact_forward(t(-2.0)).item() == -8.0
    assert math.isfinite(get("cube").train_forward(t(1e200)).item())


def test_simple_arithmetic_values():
    a, b = t(7.0, -2.0), t(2.0, 5.0)
    assert get("add").exact_forward(a, b).tolist() == [9.0, 3.0]
    assert get("sub").exact_forward(a, b).tolist() == [5.0, -7.0]
    assert get("mul").exact_forward(a, b).tolist() == [14.0, -10.0]
    assert get("neg").exact_forward(a).tolist() == [-7.0, 2.0]
    assert get("abs").exact_forward(a).tolist() == [7.0, 2.0]
    assert get("identity").exact_forward(a) is a


def test_sympy_forms():
    x, y = sympy.symbols("x y")
    assert get("div").to_sympy(x, y) == x / y
    assert get("inv").to_sympy(x) == 1 / x
    assert get("sqrt").to_sympy(sympy.Integer(4)) == 2
    assert get("square").to_sympy(x) == x**2
    assert get("abs").to_sympy(x) == sympy.Abs(x)


def test_identity_is_free_and_nonlinear_primitives_cost_more():
    assert get("identity").complexity == 0.0
    assert get("add").complexity < get("div").complexity < get("exp").complexity


def test_unprotected_primitives_have_no_safe_version():
    for name in ("identity", "neg", "add", "sub", "mul", "sin", "cos", "tanh"):
        assert get(name).safe_torch_fn is None
    for name in ("div", "inv", "sqrt", "log", "exp", "square", "cube"):
        assert get(name).safe_torch_fn is not None

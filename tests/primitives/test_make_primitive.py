"""make_primitive: success, pickling, and every failure mode."""

import math
import pickle

import numpy as np
import pytest
import sympy
import torch

from nalu_sr.exceptions import NaluSRError, PrimitiveError
from nalu_sr.primitives import Primitive, check_primitive, make_primitive


def safe_sinh(x):
    return torch.sinh(x.clamp(-20, 20))


def make_sinh(**overrides):
    arguments = {
        "name": "sinh",
        "arity": 1,
        "torch_fn": torch.sinh,
        "sympy_fn": sympy.sinh,
        "safe_torch_fn": lambda x: torch.sinh(x.clamp(-20, 20)),
        "complexity": 3.0,
    }
    arguments.update(overrides)
    return make_primitive(**arguments)


def sin_kwargs(**overrides):
    """Arguments of a valid sin primitive, with some replaced."""
    arguments = {
        "name": "mysin",
        "arity": 1,
        "torch_fn": torch.sin,
        "sympy_fn": sympy.sin,
    }
    arguments.update(overrides)
    return arguments


def raises_check(check, match, **kwargs):
    """Assert make_primitive(**kwargs) fails ``check`` with a message matching."""
    with pytest.raises(PrimitiveError, match=match) as excinfo:
        make_primitive(**kwargs)
    assert excinfo.value.check == check
    assert f"failed the {check!r} check" in str(excinfo.value)
    return excinfo.value


SAMPLE = torch.tensor([-30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0], dtype=torch.float64)


# --------------------------------------------------------------------- success


class TestSuccess:
    def test_returns_a_primitive_with_the_declared_fields(self):
        sinh = make_sinh()
        assert isinstance(sinh, Primitive)
        assert sinh.name == "sinh"
        assert sinh.arity == 1
        assert sinh.complexity == 3.0

    def test_default_complexity_is_one(self):
        sinh = make_primitive(
            name="sinh",
            arity=1,
            torch_fn=torch.sinh,
            sympy_fn=sympy.sinh,
            safe_torch_fn=safe_sinh,
        )
        assert sinh.complexity == 1.0

    def test_integer_and_zero_complexity_are_accepted(self):
        assert make_sinh(complexity=2).complexity == 2
        assert make_sinh(complexity=0).complexity == 0

    def test_computes_exact_safe_and_symbolic_values(self):
        sinh = make_sinh()
        exact = sinh.exact_forward(SAMPLE)
        safe = sinh.train_forward(SAMPLE)
        torch.testing.assert_close(exact, torch.sinh(SAMPLE))
        # The safe version clamps to [-20, 20]; in range it is exact.
        torch.testing.assert_close(safe[1:-1], torch.sinh(SAMPLE[1:-1]))
        assert safe[-1].item() == pytest.approx(math.sinh(20.0))
        assert safe[0].item() == pytest.approx(-math.sinh(20.0))
        x = sympy.Symbol("x")
        assert sinh.to_sympy(x) == sympy.sinh(x)

    def test_sympy_class_stays_usable_after_wrapping(self):
        # Regression: joblib replaced the class sympy.sinh by a wrapper class
        # whose calls returned wrapper objects instead of expressions.
        sinh = make_sinh()
        x = sympy.Symbol("x")
        expression = sinh.to_sympy(x)
        assert isinstance(expression, sympy.Expr)
        assert expression.func is sympy.sinh

    def test_pickle_round_trip_keeps_the_values(self):
        sinh = make_sinh()
        restored = pickle.loads(pickle.dumps(sinh))
        assert isinstance(restored, Primitive)
        assert (restored.name, restored.arity, restored.complexity) == (
            "sinh",
            1,
            3.0,
        )
        torch.testing.assert_close(
            restored.exact_forward(SAMPLE), sinh.exact_forward(SAMPLE)
        )
        torch.testing.assert_close(
            restored.train_forward(SAMPLE), sinh.train_forward(SAMPLE)
        )
        assert math.isfinite(restored.train_forward(torch.tensor([1e6])).item())
        x = sympy.Symbol("x")
        assert restored.to_sympy(x) == sympy.sinh(x)
        # The restored primitive still passes the checks.
        check_primitive(restored)

    def test_lambdas_and_closures_pickle_when_wrapped(self):
        scale = 2.5

        def closure(x):
            return scale * x

        scaled = make_primitive(
            name="scaled",
            arity=1,
            torch_fn=closure,
            sympy_fn=lambda x: scale * x,
        )
        restored = pickle.loads(pickle.dumps(scaled))
        torch.testing.assert_close(restored.exact_forward(SAMPLE), 2.5 * SAMPLE)
        x = sympy.Symbol("x")
        assert restored.to_sympy(x) == sympy.Float(2.5) * x

    def test_wrap_false_keeps_the_callables_and_lambdas_do_not_pickle(self):
        safe = lambda x: torch.sinh(x.clamp(-20, 20))  # noqa: E731
        sinh = make_sinh(safe_torch_fn=safe, wrap=False)
        assert sinh.safe_torch_fn is safe
        assert sinh.torch_fn is torch.sinh
        assert sinh.sympy_fn is sympy.sinh
        with pytest.raises((pickle.PicklingError, AttributeError)):
            pickle.dumps(sinh)

    def test_wrap_false_with_module_level_functions_pickles_by_reference(self):
        sinh = make_sinh(safe_torch_fn=safe_sinh, wrap=False)
        restored = pickle.loads(pickle.dumps(sinh))
        assert restored == sinh
        assert restored.safe_torch_fn is safe_sinh

    def test_wrap_true_replaces_a_lambda(self):
        safe = lambda x: torch.sinh(x.clamp(-20, 20))  # noqa: E731
        sinh = make_sinh(safe_torch_fn=safe)
        assert sinh.safe_torch_fn is not safe
        torch.testing.assert_close(sinh.train_forward(SAMPLE), safe(SAMPLE))

    def test_binary_primitive(self):
        def torch_fn(a, b):
            return a * b + a

        def sympy_fn(a, b):
            return a * b + a

        fma = make_primitive(
            name="mul_add", arity=2, torch_fn=torch_fn, sympy_fn=sympy_fn
        )
        assert fma.arity == 2
        value = fma.exact_forward(torch.tensor([2.0]), torch.tensor([3.0]))
        assert value.item() == 8.0
        a, b = sympy.symbols("a b")
        assert fma.to_sympy(a, b) == a * b + a

    def test_default_arguments_and_varargs_are_accepted(self):
        def torch_fn(x, offset=0.0):
            return x + offset

        shifted = make_primitive(
            name="shifted", arity=1, torch_fn=torch_fn, sympy_fn=lambda *a: a[0]
        )
        assert shifted.exact_forward(torch.tensor([4.0])).item() == 4.0

    def test_constant_primitive_is_accepted(self):
        # Regression: an output that does not depend on the inputs has no
        # grad_fn, and the gradient check used to leak torch's RuntimeError.
        one = make_primitive(
            name="one",
            arity=1,
            torch_fn=torch.ones_like,
            sympy_fn=lambda x: sympy.Integer(1),
        )
        assert one.exact_forward(SAMPLE).tolist() == [1.0] * len(SAMPLE)
        assert one.to_sympy(sympy.Symbol("x")) == 1


# ------------------------------------------------------------- the exceptions


def test_primitive_error_is_a_value_error_and_a_nalu_error():
    assert issubclass(PrimitiveError, ValueError)
    assert issubclass(PrimitiveError, NaluSRError)
    error = PrimitiveError("arity", "f", "bad")
    assert error.check == "arity"
    assert error.primitive_name == "f"
    assert str(error) == "primitive 'f' failed the 'arity' check: bad"


def test_failures_can_be_caught_as_value_error():
    with pytest.raises(ValueError, match="arity"):
        make_primitive(**sin_kwargs(arity=0))


# ------------------------------------------------------------------- name


@pytest.mark.parametrize("name", ["my prim", "1abc", "", "a-b", "sin(x)"])
def test_name_must_be_an_identifier(name):
    error = raises_check("name", "must be a Python identifier", **sin_kwargs(name=name))
    assert error.primitive_name == name


@pytest.mark.parametrize("name", [123, None, b"sin", ["sin"]])
def test_name_must_be_a_string(name):
    error = raises_check("name", "must be a Python identifier", **sin_kwargs(name=name))
    assert error.primitive_name == str(name)


# ------------------------------------------------------------------- arity


@pytest.mark.parametrize("arity", [0, -1, 1.5, True, False, "1", None], ids=repr)
def test_arity_must_be_a_positive_int(arity):
    error = raises_check(
        "arity", r"arity must be an int >= 1", **sin_kwargs(arity=arity)
    )
    assert repr(arity) in str(error)
    assert error.primitive_name == "mysin"


# -------------------------------------------------------------- complexity


@pytest.mark.parametrize(
    "complexity",
    [-1.0, -1, math.nan, math.inf, "1", None, True],
    ids=repr,
)
def test_complexity_must_be_finite_and_non_negative(complexity):
    raises_check(
        "complexity",
        "complexity must be finite and >= 0",
        **sin_kwargs(complexity=complexity),
    )


def test_declaration_is_checked_before_the_functions():
    # A bad name is reported even though the functions are bad too.
    raises_check("name", "identifier", **sin_kwargs(name="a b", torch_fn=3))


# --------------------------------------------------------------- signature


def test_torch_fn_with_too_many_arguments():
    raises_check(
        "signature",
        r"takes 2 required argument\(s\) but arity is 1",
        **sin_kwargs(torch_fn=lambda a, b: a + b),
    )


def test_torch_fn_with_too_few_arguments():
    raises_check(
        "signature",
        r"takes 1 required argument\(s\) but arity is 2",
        **sin_kwargs(arity=2, torch_fn=lambda a: a, sympy_fn=lambda a, b: a + b),
    )


def test_safe_torch_fn_with_the_wrong_argument_count():
    def safe(a, b):
        return a

    raises_check(
        "signature",
        r"'safe' takes 2 required argument\(s\)",
        **sin_kwargs(safe_torch_fn=safe),
    )


def test_sympy_fn_with_the_wrong_argument_count():
    raises_check(
        "signature",
        r"takes 0 required argument\(s\)",
        **sin_kwargs(sympy_fn=lambda: sympy.Integer(0)),
    )


@pytest.mark.parametrize("field", ["torch_fn", "sympy_fn", "safe_torch_fn"])
def test_functions_must_be_callable(field):
    raises_check("signature", "is not callable", **sin_kwargs(**{field: 3.0}))


# ------------------------------------------------------------ output_shape


def test_reduced_output_is_rejected():
    raises_check(
        "output_shape",
        r"gave an output of shape \(\)",
        **sin_kwargs(torch_fn=lambda x: x.sum(), sympy_fn=lambda x: x),
    )


def test_output_of_another_shape_is_rejected():
    raises_check(
        "output_shape",
        r"gave an output of shape \(1, 16\)",
        **sin_kwargs(torch_fn=lambda x: x[None]),
    )


def test_numpy_output_is_rejected():
    raises_check(
        "output_shape",
        "must return a torch.Tensor, got ndarray",
        **sin_kwargs(torch_fn=lambda x: np.sin(x.numpy())),
    )


def test_python_scalar_output_is_rejected():
    raises_check(
        "output_shape",
        "must return a torch.Tensor, got float",
        **sin_kwargs(torch_fn=lambda x: 1.0, sympy_fn=lambda x: sympy.Integer(1)),
    )


def test_function_that_raises_is_reported_with_the_cause():
    def broken(x):
        raise RuntimeError("boom")

    error = raises_check(
        "output_shape", "calling it raised RuntimeError", **sin_kwargs(torch_fn=broken)
    )
    assert "boom" in str(error)
    assert isinstance(error.__cause__, RuntimeError)


def test_safe_version_shape_is_checked_too():
    raises_check(
        "output_shape",
        r"output of shape \(1,\)",
        **sin_kwargs(safe_torch_fn=lambda x: torch.sin(x[:1])),
    )


# ----------------------------------------------------------------- closure


def test_unprotected_reciprocal_is_not_closed_on_zeros():
    error = raises_check(
        "closure",
        "not finite on zeros",
        name="recip",
        arity=1,
        torch_fn=lambda x: 1 / x,
        sympy_fn=lambda x: 1 / x,
    )
    assert "safe_torch_fn" in str(error)


def test_unprotected_reciprocal_as_safe_fn_is_not_closed_on_zeros():
    raises_check(
        "closure",
        "not finite on zeros",
        name="recip",
        arity=1,
        torch_fn=lambda x: 1 / x,
        sympy_fn=lambda x: 1 / x,
        safe_torch_fn=lambda x: 1 / x,
    )


def test_unprotected_exponential_is_not_closed_on_large_values():
    raises_check(
        "closure",
        "not finite on large values",
        **sin_kwargs(name="myexp", torch_fn=torch.exp, sympy_fn=sympy.exp),
    )


def test_unprotected_log_is_not_closed_on_zeros():
    raises_check(
        "closure",
        "not finite on zeros",
        **sin_kwargs(name="mylog", torch_fn=torch.log, sympy_fn=sympy.log),
    )


# ---------------------------------------------------------------- gradient


def test_sqrt_of_abs_has_a_non_finite_gradient_at_zero():
    def safe(x):
        return torch.sqrt(torch.abs(x))

    # The property the check relies on: finite value, non-finite gradient.
    zero = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    value = safe(zero)
    (gradient,) = torch.autograd.grad(value.sum(), zero)
    assert torch.isfinite(value).all()
    assert not torch.isfinite(gradient).all()

    raises_check(
        "gradient",
        "non-finite gradient on zeros",
        name="mysqrt",
        arity=1,
        torch_fn=torch.sqrt,
        sympy_fn=sympy.sqrt,
        safe_torch_fn=safe,
    )


def test_cube_root_has_an_infinite_gradient_at_zero():
    raises_check(
        "gradient",
        "non-finite gradient on zeros",
        name="cbrt",
        arity=1,
        torch_fn=lambda x: torch.sign(x) * torch.abs(x) ** (1 / 3),
        sympy_fn=lambda x: sympy.sign(x) * sympy.Abs(x) ** sympy.Rational(1, 3),
    )


# -------------------------------------------------------------- sympy_type


@pytest.mark.parametrize(
    ("sympy_fn", "type_name"),
    [
        (lambda x: 0.5, "float"),
        (lambda x: 1, "int"),
        (lambda x: True, "bool"),
        (lambda x: x > 0, "StrictGreaterThan"),
        (lambda x: sympy.Eq(x, 1), "Equality"),
        (lambda x: sympy.true, "BooleanTrue"),
        (lambda x: (x, x), "tuple"),
    ],
    ids=["float", "int", "bool", "relational", "equality", "sympy_true", "tuple"],
)
def test_sympy_fn_must_return_an_expression(sympy_fn, type_name):
    raises_check(
        "sympy_type",
        f"must return a sympy.Expr, got {type_name}$",
        **sin_kwargs(sympy_fn=sympy_fn),
    )


# --------------------------------------------------------------- agreement


def test_torch_sin_and_sympy_cos_disagree():
    raises_check(
        "agreement",
        "torch_fn gives .* but sympy_fn gives",
        **sin_kwargs(sympy_fn=sympy.cos),
    )


def test_safe_fn_disagreeing_with_exact_on_the_domain():
    raises_check(
        "agreement",
        "safe_torch_fn gives .* but sympy_fn gives",
        **sin_kwargs(safe_torch_fn=lambda x: torch.sin(x) + 1e-3),
    )


def test_safe_fn_protection_reaching_into_the_domain_is_caught():
    # Clamping at 1 changes sinh on the sample points, which reach 3.
    raises_check(
        "agreement",
        "safe_torch_fn gives",
        name="sinh",
        arity=1,
        torch_fn=torch.sinh,
        sympy_fn=sympy.sinh,
        safe_torch_fn=lambda x: torch.sinh(x.clamp(-1, 1)),
    )


def test_too_few_comparable_points():
    raises_check(
        "agreement",
        "finite together on too few sample points",
        name="nowhere",
        arity=1,
        torch_fn=lambda x: torch.log(-torch.abs(x)),
        sympy_fn=lambda x: sympy.log(-sympy.Abs(x)),
        safe_torch_fn=torch.zeros_like,
    )


def test_agreement_ignores_points_outside_the_exact_domain():
    # Exact sqrt is nan on negatives; the safe version differs there freely.
    mysqrt = make_primitive(
        name="mysqrt",
        arity=1,
        torch_fn=torch.sqrt,
        sympy_fn=sympy.sqrt,
        safe_torch_fn=lambda x: torch.sqrt(torch.clamp(torch.abs(x), min=1e-6)),
    )
    assert mysqrt.train_forward(torch.tensor([-4.0])).item() == 2.0


def test_small_relative_error_is_tolerated():
    mysin = make_primitive(
        **sin_kwargs(safe_torch_fn=lambda x: torch.sin(x) * (1 + 1e-8))
    )
    assert mysin.name == "mysin"


# ---------------------------------------------------------- check_primitive


def test_check_primitive_rejects_a_hand_built_unsafe_primitive():
    bad = Primitive("recip", 1, lambda x: 1 / x, lambda x: 1 / x)
    with pytest.raises(PrimitiveError, match="not finite on zeros") as excinfo:
        check_primitive(bad)
    assert excinfo.value.check == "closure"
    assert excinfo.value.primitive_name == "recip"


def test_check_primitive_rejects_a_hand_built_disagreeing_primitive():
    bad = Primitive("sin", 1, torch.sin, sympy.cos)
    with pytest.raises(PrimitiveError, match="torch_fn gives") as excinfo:
        check_primitive(bad)
    assert excinfo.value.check == "agreement"

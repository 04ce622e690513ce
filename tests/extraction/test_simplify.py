"""simplify_checked: bounded steps, the equivalence check and its fallback."""

import time

import numpy as np
import pytest
import sympy

import nalu_sr.extraction.simplify as simplify_module
from nalu_sr.extraction import evaluate_sympy, simplify_checked

x, y = sympy.symbols("x y", real=True)
POINTS = np.array([[1.0, 2.0], [3.0, -0.5], [0.25, 4.0]])
QUOTIENT = (x**2 - y**2) / (x + y)
PYTHAGORAS = sympy.sin(x) ** 2 + sympy.cos(x) ** 2


def test_simplifies_when_values_agree():
    assert simplify_checked(QUOTIENT, [x, y], POINTS) == x - y
    powers = sympy.sqrt(x) * x ** sympy.Rational(3, 2) * y / (x**2 * y**2 + x**2 * y)
    assert simplify_checked(powers, [x, y], POINTS) == 1 / (y + 1)


def test_exact_constants_stay_exact():
    expr = sympy.Rational(1, 3) * x + sympy.Rational(1, 3) * y
    third = sympy.Rational(1, 3)
    assert simplify_checked(expr, [x, y], POINTS) == sympy.Mul(
        third, x + y, evaluate=False
    )


def test_nan_at_a_sample_point_equals_nan():
    expr = sympy.log(x) * (x**2 - 1) / (x - 1)
    points = np.array([[-1.0], [2.0], [3.0]])  # log(-1) is nan before and after
    assert simplify_checked(expr, [x], points) == (x + 1) * sympy.log(x)


def test_larger_expressions_get_cheaper_steps():
    steps = simplify_module._steps_for
    assert steps(QUOTIENT, 200)[-1] is sympy.simplify  # 5 operations <= 200 // 20
    assert sympy.simplify not in steps(QUOTIENT, 99)
    assert steps(QUOTIENT, 1) == (sympy.factor_terms, sympy.powsimp)  # 5 <= 5 * 1
    assert steps(QUOTIENT, 0) == (sympy.factor_terms,)
    assert simplify_checked(QUOTIENT, [x, y], POINTS, max_ops=1) == QUOTIENT


def test_trigonometric_expressions_skip_the_unbounded_simplify():
    assert sympy.simplify not in simplify_module._steps_for(PYTHAGORAS, 200)
    assert simplify_checked(PYTHAGORAS, [x], POINTS[:, :1]) == PYTHAGORAS


def test_nested_sines_that_stall_sympy_simplify_return_quickly():
    # sympy.simplify takes over 15 s on this emitted formula (trigsimp).
    x0, x1, x2 = sympy.symbols("x0:3", real=True)
    inner = sympy.sin(x0 + x1 + x2 + 1)
    expr = sympy.sin(
        -sympy.sin(x0 + x1 - x2 + inner + sympy.Float(0.25))
        + sympy.sin(2 * x0 + 2 * x1 - 2 * x2 - inner + sympy.Float(1.5))
        + sympy.S.Half
    )
    points = np.random.default_rng(0).uniform(0.5, 3.0, (8, 3))
    start = time.perf_counter()
    assert simplify_checked(expr, [x0, x1, x2], points) == expr
    assert time.perf_counter() - start < 5.0


def test_no_step_starts_after_the_time_budget():
    assert simplify_checked(QUOTIENT, [x, y], POINTS, timeout_s=0.0) == QUOTIENT


def test_step_that_grows_the_expression_is_dropped(monkeypatch):
    monkeypatch.setattr(simplify_module, "_steps_for", lambda e, m: (sympy.expand,))
    expr = (x + 1) ** 3
    assert simplify_checked(expr, [x, y], POINTS) == expr


def test_value_change_warns_and_keeps_original(monkeypatch):
    def wrong_step(expr):
        return expr.subs(y, x)

    monkeypatch.setattr(simplify_module, "_steps_for", lambda e, m: (wrong_step,))
    with pytest.warns(UserWarning, match="changed the value at a sample point"):
        assert simplify_checked(x + y, [x, y], POINTS) == x + y


def test_raising_step_warns_and_keeps_original(monkeypatch):
    def failing_step(expr):
        raise sympy.PolynomialError("no luck")

    monkeypatch.setattr(simplify_module, "_steps_for", lambda e, m: (failing_step,))
    with pytest.warns(UserWarning, match="raised PolynomialError: no luck"):
        assert simplify_checked(QUOTIENT, [x, y], POINTS) == QUOTIENT


def test_piecewise_conditions_are_left_alone():
    condition = (x >= 0) & (x > -1)  # sympy.simplify would reduce it to x >= 0
    expr = sympy.Piecewise(
        ((x**2 - 1) / (x - 1), condition), ((x**2 - 4) / (x + 2), True)
    )
    points = np.array([[-1.0, 2.0], [2.0, 3.0], [0.5, -2.0]])  # x = 1 would be 0/0
    result = simplify_checked(expr * (y**2 - 1) / (y + 1), [x, y], points)
    assert result == (y - 1) * sympy.Piecewise((x + 1, condition), (x - 2, True))


def test_rejects_sample_points_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(n, 2\), got \(3,\)"):
        simplify_checked(QUOTIENT, [x, y], POINTS[:, 0])
    with pytest.raises(ValueError, match=r"shape \(n, 1\), got \(3, 2\)"):
        simplify_checked(x, [x], POINTS)


def test_evaluate_sympy_broadcasts_constants_and_maps_zoo_to_nan():
    np.testing.assert_array_equal(
        evaluate_sympy(sympy.Integer(3), [x], POINTS[:, :1]), [3, 3, 3]
    )
    with_zoo = sympy.Piecewise((x, x > 2), (sympy.zoo, True))
    np.testing.assert_array_equal(
        evaluate_sympy(with_zoo, [x], POINTS[:, :1]), [np.nan, 3.0, np.nan]
    )


def test_removing_a_singularity_at_a_sample_point_counts_as_a_change():
    expr = (x**2 - 1) / (x - 1)  # 0/0 = nan at x = 1, but x + 1 gives 2
    with pytest.warns(UserWarning, match="changed the value"):
        assert simplify_checked(expr, [x], np.array([[1.0], [2.0]])) == expr


def test_signs_every_row_settles_drop_absolute_values():
    x0, x1, x2 = sympy.symbols("x0:3", real=True)
    found = 1 / (sympy.sqrt(1 / (x1**2 * x2**2)) * sympy.Abs(x0 - 1))
    rng = np.random.default_rng(0)
    rows = np.column_stack([rng.uniform(1.1, 5, (50, 1)), rng.uniform(1, 5, (50, 2))])
    settled = simplify_module.with_signs_of_rows(found, [x0, x1, x2], rows)
    assert settled == x1 * x2 / (x0 - 1)
    below = rows.copy()
    below[:, 0] -= 4.5  # x0 - 1 < 0 on every row
    settled = simplify_module.with_signs_of_rows(found, [x0, x1, x2], below)
    assert settled == x1 * x2 / (1 - x0)


def test_signs_the_rows_do_not_settle_stay():
    found = sympy.Abs(x) * y
    rows = np.array([[-1.0, 2.0], [1.0, 3.0]])  # x changes sign, y is positive
    assert simplify_module.with_signs_of_rows(found, [x, y], rows) == found

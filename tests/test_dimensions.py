"""nalu_sr.dimensions: unit strings, formula dimensions, and units in selection."""

from fractions import Fraction

import numpy as np
import pytest
import sympy

from nalu_sr import NALURegressor
from nalu_sr.dimensions import (
    DIMENSIONLESS,
    Dimension,
    fit_units,
    formula_dimension,
    parse_units,
)
from nalu_sr.extraction.candidate import Candidate
from nalu_sr.selection import select_candidate

x0, x1, x2 = sympy.symbols("x0:3", real=True)


def _dimension(kg=0, m=0, s=0, A=0):
    return Dimension(tuple(Fraction(p) for p in (kg, m, s, A, 0, 0, 0)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kg*m/s**2", _dimension(kg=1, m=1, s=-2)),
        ("N", _dimension(kg=1, m=1, s=-2)),
        ("J/(kg*m)", _dimension(m=1, s=-2)),
        ("1/s", _dimension(s=-1)),
        ("Hz", _dimension(s=-1)),
        ("m^-2", _dimension(m=-2)),
        ("m**(1/2)", Dimension((0, Fraction(1, 2), 0, 0, 0, 0, 0))),
        ("km/h", _dimension(m=1, s=-1)),
        ("mm", _dimension(m=1)),
        ("ms", _dimension(s=1)),
        ("uF", _dimension(kg=-1, m=-2, s=4, A=2)),
        ("C", _dimension(s=1, A=1)),
        ("1", DIMENSIONLESS),
        ("", DIMENSIONLESS),
        ("rad", DIMENSIONLESS),
    ],
)
def test_unit_strings_become_base_dimensions(text, expected):
    assert parse_units(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kgg*m", "X_units\\[1\\] 'kgg\\*m': unknown unit 'kgg'; known: kg, m, s"),
        ("m**x", "the power 'x' is not a number"),
        ("(m", "ends too early"),
        ("m s", "unexpected 's'"),
        ("m$", "cannot read '\\$'"),
        (3, "X_units\\[1\\] must be a string such as 'kg\\*m/s\\*\\*2'; got 3"),
    ],
)
def test_a_wrong_unit_string_is_one_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        parse_units(text, "X_units[1]")


def test_a_dimension_prints_in_base_units():
    assert str(parse_units("J/K")) == "kg*m**2*s**-2*K**-1"
    assert str(parse_units("m**(1/2)")) == "m**(1/2)"
    assert str(DIMENSIONLESS) == "1"


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        (x0 + x1 * x2, _dimension(m=1)),  # metres + (m/s) * s
        (2 * sympy.pi * x0 / x2, _dimension(m=1, s=-1)),
        (sympy.sqrt(x0 * x1 * x2) / 2, _dimension(m=1)),
        (sympy.exp(x0 / (x1 * x2)), DIMENSIONLESS),
        (x0**2.5, Dimension((0, Fraction(5, 2), 0, 0, 0, 0, 0))),
        (sympy.Abs(x1), _dimension(m=1, s=-1)),
        (x0 + x1, None),  # metres + metres per second
        (x0 + 1, None),
        (sympy.sin(x0), None),
        (x0**x2, None),
    ],
)
def test_the_dimension_of_a_formula(formula, expected):
    units = {x0: parse_units("m"), x1: parse_units("m/s"), x2: parse_units("s")}
    assert formula_dimension(formula, units) == expected


def test_a_symbol_without_units_has_no_dimension():
    assert formula_dimension(x0 * x1, {x0: parse_units("m")}) is None


def test_fit_units_checks_counts_and_names():
    symbols = [x0, x1]
    (units,) = fit_units(["m", "s"], "m/s", symbols, 1)
    assert units.consistent([x0 / x1, x0 * x1]) == [True, False]
    assert fit_units(None, None, symbols, 2) == [None, None]
    with pytest.raises(ValueError, match="X_units has 1 entries for 2 features"):
        fit_units(["m"], "m", symbols, 1)
    with pytest.raises(ValueError, match="y_units has 1 entries for 2 target columns"):
        fit_units(["m", "s"], "m", symbols, 2)
    with pytest.raises(ValueError, match="give both X_units and y_units"):
        fit_units(["m", "s"], None, symbols, 1)
    with pytest.raises(ValueError, match=r"^y_units\[1\] 'parsec'"):
        fit_units(["m", "s"], ["m", "parsec"], symbols, 2)


def _candidate(expression, complexity, loss):
    return Candidate(
        expression=expression, complexity=complexity, train_loss=loss,
        validation_loss=loss, architecture="power", width=1, seed=0,
    )  # fmt: skip


def test_units_decide_between_formulas_the_data_cannot_tell_apart():
    mismatched = _candidate(x0 * x1, 3, 0.0100)
    matching = _candidate(x0 / x1, 3, 0.0101)
    candidates = [mismatched, matching]
    assert select_candidate(candidates, 1e-16, 2.0) == 0
    assert select_candidate(candidates, 1e-16, 2.0, consistent=[False, True]) == 1


def test_units_never_choose_a_worse_fit():
    mismatched = _candidate(x0 * x1, 3, 1e-4)
    matching = _candidate(x0 / x1, 3, 0.5)
    chosen = select_candidate(
        [mismatched, matching], 1e-16, 2.0, 100, consistent=[False, True]
    )
    assert chosen == 0


def test_fit_refuses_a_wrong_unit_before_any_work():
    X = np.random.default_rng(0).uniform(1, 5, size=(50, 2))
    with pytest.raises(ValueError, match=r"^X_units\[1\] 'sec': unknown unit 'sec'"):
        NALURegressor().fit(X, X[:, 0] / X[:, 1], X_units=["m", "sec"], y_units="m/s")


def test_a_law_with_consistent_units_is_found_with_them():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, size=(200, 3))
    y = X[:, 0] * X[:, 1] ** 2 / 2 + X[:, 2]  # kinetic energy plus energy
    model = NALURegressor(random_state=0).fit(
        X, y, X_units=["kg", "m/s", "J"], y_units="J"
    )
    assert sympy.simplify(model.expression_ - (x0 * x1**2 / 2 + x2)) == 0

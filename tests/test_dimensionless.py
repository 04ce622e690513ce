"""nalu_sr.dimensionless: Buckingham pi bases, and the fit over groups."""

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from nalu_sr import NALURegressor
from nalu_sr.dimensionless import DimensionlessBasis, dimensionless_bases
from nalu_sr.dimensions import (
    Dimension,
    Units,
    formula_dimension,
    parse_units,
)


def _units(inputs: dict[str, str], target: str) -> tuple[Units, list[sympy.Symbol]]:
    symbols = [sympy.Symbol(name, real=True) for name in inputs]
    texts = inputs.values()
    dims = {s: parse_units(t) for s, t in zip(symbols, texts, strict=True)}
    return Units(dims, parse_units(target)), symbols


def _words(basis: DimensionlessBasis, symbols: list[sympy.Symbol]) -> str:
    return basis.describe(symbols)


def test_relativistic_energy_is_m_c2_times_a_function_of_v_over_c():
    units, symbols = _units({"m": "kg", "v": "m/s", "c": "m/s"}, "J")
    bases = dimensionless_bases(units, symbols)
    # Two bases: c or v repeating; the later column (c) wins the tie.
    assert [_words(b, symbols) for b in bases] == [
        "y = c**2*m * f(v/c)",
        "y = m*v**2 * f(c/v)",
    ]
    assert bases[0].prefactor == (Fraction(1), Fraction(0), Fraction(2))
    assert bases[0].groups == ((0, 1, -1),)


def test_coulomb_force_has_one_group_the_charge_ratio():
    units, symbols = _units({"q1": "C", "q2": "C", "eps": "F/m", "r": "m"}, "N")
    best = dimensionless_bases(units, symbols)[0]
    assert _words(best, symbols) == "y = q2**2/(eps*r**2) * f(q1/q2)"


def test_without_groups_the_prefactor_is_the_one_feature():
    units, symbols = _units({"m": "kg", "g": "m/s**2", "z": "m"}, "J")
    (basis,) = dimensionless_bases(units, symbols)
    assert basis.groups == ()
    assert _words(basis, symbols) == "y = f(g*m*z)"
    X = np.array([[2.0, 3.0, 5.0], [1.0, 1.0, 1.0]])
    features, target = basis.transform(X, np.array([30.0, 1.0]))
    np.testing.assert_array_equal(features, [[30.0], [1.0]])
    np.testing.assert_array_equal(target, [30.0, 1.0])


def test_a_root_in_the_prefactor_costs_more_than_an_integer_power():
    # kappa*(T2 - T1)*A/d: with d repeating the prefactor has no square root.
    inputs = {"kappa": "W/(m*K)", "T1": "K", "T2": "K", "A": "m**2", "d": "m"}
    units, symbols = _units(inputs, "W")
    best = dimensionless_bases(units, symbols)[0]
    assert _words(best, symbols) == "y = T2*d*kappa * f(T1/T2, A/d**2)"


@pytest.mark.parametrize(
    ("inputs", "target"),
    [
        ({"x": "m", "t": "s"}, "kg"),  # no mass among the inputs
        ({"a": "1", "b": "1"}, "1"),  # nothing to group
    ],
)
def test_no_basis_when_units_cannot_help(inputs, target):
    units, symbols = _units(inputs, target)
    assert dimensionless_bases(units, symbols) == []


def test_transform_and_restore_agree():
    units, symbols = _units({"m": "kg", "v": "m/s", "c": "m/s"}, "J")
    basis = dimensionless_bases(units, symbols)[0]
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, size=(20, 3)) * [1, 1, 4]
    m, v, c = X.T
    y = m * c**2 / np.sqrt(1 - v**2 / c**2)
    features, target = basis.transform(X, y)
    np.testing.assert_allclose(features[:, 0], v / c)
    np.testing.assert_allclose(target, 1 / np.sqrt(1 - (v / c) ** 2))
    group = sympy.Symbol("p")
    law = basis.restore(1 / sympy.sqrt(1 - group**2), [group], symbols)
    m_, v_, c_ = symbols
    assert sympy.simplify(law - m_ * c_**2 / sympy.sqrt(1 - v_**2 / c_**2)) == 0


def test_a_fractional_prefactor_is_undefined_on_negative_inputs():
    units, symbols = _units({"gamma": "1", "p": "Pa", "rho": "kg/m**3"}, "m/s")
    basis = dimensionless_bases(units, symbols)[0]
    assert _words(basis, symbols) == "y = sqrt(p)/sqrt(rho) * f(gamma)"
    _, target = basis.transform(np.array([[1.4, -1.0, 1.0]]), np.array([1.0]))
    assert np.isnan(target[0])


_EXPONENT = st.integers(min_value=-2, max_value=2)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(_EXPONENT, min_size=3, max_size=3), min_size=1, max_size=5),
    st.lists(_EXPONENT, min_size=3, max_size=3),
)
def test_groups_are_dimensionless_and_the_prefactor_has_the_targets_dimension(
    inputs, target
):
    def dimension(powers):
        return Dimension(tuple(Fraction(p) for p in [*powers, 0, 0, 0, 0]))

    symbols = sympy.symbols(f"x0:{len(inputs)}", positive=True)
    dims = {s: dimension(p) for s, p in zip(symbols, inputs, strict=True)}
    units = Units(dims, dimension(target))
    for basis in dimensionless_bases(units, list(symbols)):
        groups = [sympy.Symbol(f"p{i}") for i in range(basis.n_features)]
        # The prefactor alone, and each group alone, through restore.
        prefactor = basis.restore(sympy.Integer(1), groups, symbols)
        if basis.groups:
            assert formula_dimension(prefactor, dims) == units.target
            for k in range(len(basis.groups)):
                one = basis.restore(groups[k], groups, symbols) / prefactor
                assert formula_dimension(one, dims).dimensionless
        else:
            lone = basis.restore(groups[0], groups, symbols)
            assert formula_dimension(lone, dims) == units.target


def _relativistic(n_rows: int = 300):
    rng = np.random.default_rng(1)
    m = rng.uniform(1, 5, n_rows)
    v = rng.uniform(1, 2, n_rows)
    c = rng.uniform(3, 10, n_rows)
    X = pd.DataFrame({"m": m, "v": v, "c": c})
    return X, m * c**2 / np.sqrt(1 - v**2 / c**2)


UNITS = {"X_units": ["kg", "m/s", "m/s"], "y_units": "J"}


def test_fit_with_units_finds_the_law_over_its_groups():
    X, y = _relativistic()
    model = NALURegressor(random_state=0).fit(X, y, **UNITS)
    m, v, c = model.feature_symbols_
    assert model.exact_
    assert (
        sympy.simplify(model.expression_ - m * c**2 / sympy.sqrt(1 - v**2 / c**2)) == 0
    )
    assert model.equations_["architecture"].str.startswith("groups/").any()


def test_dimensional_analysis_false_searches_the_inputs_only():
    X, y = _relativistic(60)
    model = NALURegressor(
        random_state=0, dimensional_analysis=False, max_iter=50, n_restarts=1
    ).fit(X, y, **UNITS)
    assert not model.equations_["architecture"].str.startswith("groups/").any()


def test_a_law_with_a_constant_the_data_lack_is_still_found_with_units():
    # x = v0*t - g*t**2/2: g is not an input, so no product of the inputs
    # is the law's prefactor and the inputs' search finds it.
    rng = np.random.default_rng(2)
    t, v0 = rng.uniform(0, 3, 200), rng.uniform(1, 5, 200)
    X = pd.DataFrame({"t": t, "v0": v0})
    model = NALURegressor(random_state=0).fit(
        X, v0 * t - 4.9 * t**2, X_units=["s", "m/s"], y_units="m"
    )
    t_, v0_ = model.feature_symbols_
    assert model.exact_
    assert (
        sympy.simplify(model.expression_ - (v0_ * t_ - sympy.Rational(49, 10) * t_**2))
        == 0
    )


def test_an_interrupted_search_over_groups_ends_the_fit(monkeypatch):
    import nalu_sr._column_fit as column_fit
    from nalu_sr.extraction.candidate import Candidate
    from nalu_sr.search import SearchOutcome

    calls = []

    def interrupted(split, symbols, *args):
        calls.append([str(s) for s in symbols])
        found = Candidate(symbols[0], 1, 0.5, 0.5, "power", 1, 0)
        return SearchOutcome(candidates=[found], interrupted=True)

    monkeypatch.setattr(column_fit, "_search", interrupted)
    X, y = _relativistic(60)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NALURegressor(random_state=0).fit(X, y, **UNITS)
    assert any("search interrupted" in str(w.message) for w in caught)
    assert len(calls) == 1  # the groups' search only, over one group
    assert len(calls[0]) == 1

"""emit and evaluate_graph: hand-built examples and random snapped networks."""

import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from nalu_sr import NAU, NMU, PrimitiveAttention, StackedModel, compose_sympy
from nalu_sr.extraction import (
    build_graph,
    emit,
    evaluate_graph,
    evaluate_sympy,
    prune,
    simplify_checked,
)
from nalu_sr.primitives import BUILTIN_PRIMITIVES, Primitive
from nalu_sr.units import (
    LinearCombination,
    LinearOutput,
    PrimitiveOutput,
    ProductOutput,
    SnappedUnit,
)

ONE, ZERO, MINUS = Fraction(1), Fraction(0), Fraction(-1)
x0, x1, x2 = SYMBOLS = sympy.symbols("x0:3", real=True)


def linear(*coefficients, offset=ZERO):
    return LinearOutput(LinearCombination(tuple(coefficients), offset))


def chain_records(records, X):
    """Reference: evaluate the snapped units one after another.

    Rows where the reference cannot be trusted to 1e-9 become nan:

    * some layer has a non-finite value or one above 1e12: the formula divides
      by zero or overflows there, and IEEE arithmetic (1/0 = inf, 1/inf = 0)
      need not agree with SymPy's zoo;
    * the outputs move by more than 1e-5 (relative) when the inputs move by
      about 1e-9: the point is ill-conditioned, typically a difference that
      cancels to rounding noise and is then raised to a negative power.
    """
    values, tame = _chain(records, X)
    rng = np.random.default_rng(0)
    for _ in range(2):
        nudged_inputs = X * (1 + 1e-9 * rng.standard_normal(X.shape))
        nudged, nudged_tame = _chain(records, nudged_inputs)
        close = np.isclose(nudged, values, rtol=1e-5, atol=1e-9)
        tame &= nudged_tame & np.all(close, axis=1)
    return np.where(tame[:, None], values, np.nan)


def _chain(records, X):
    """Chained record values, and which rows stayed finite and below 1e12."""
    values = np.asarray(X, dtype=np.float64)
    tame = np.ones(len(values), dtype=bool)
    with np.errstate(all="ignore"):
        for record in records:
            values = record.evaluate(values)
            tame &= np.all(np.isfinite(values) & (np.abs(values) <= 1e12), axis=1)
    return values, tame


def chain_sympy(records, symbols):
    """Reference: each record's own SymPy meaning, applied one after another."""
    expressions = list(symbols)
    for record in records:
        expressions = record.to_sympy(expressions)
    return expressions


def lambdified(expressions, symbols, X):
    """Evaluate SymPy expressions column by column with NumPy (lambdify)."""
    columns = [evaluate_sympy(e, symbols, X) for e in expressions]
    return np.stack(columns, axis=1)


def assert_close_where_reference_is_tame(actual, reference):
    """Compare where the reference is finite and at most 1e12 in magnitude."""
    tame = np.isfinite(reference) & (np.abs(reference) <= 1e12)
    np.testing.assert_allclose(actual[tame], reference[tame], rtol=1e-9, atol=1e-12)


# Hand-built examples ---------------------------------------------------------


def test_nau_nmu_emits_product_of_sum():
    nau = SnappedUnit(
        "nau",
        3,
        (linear(ONE, ONE, ZERO), linear(ZERO, ZERO, ONE), linear(ONE, ZERO, MINUS)),
        0.0,
    )
    nmu = SnappedUnit("nmu", 3, (ProductOutput((ONE, ONE, ZERO)),), 0.0)
    graph = build_graph([nau, nmu], n_inputs=3)
    assert emit(prune(graph), SYMBOLS) == [x2 * (x0 + x1)]
    assert emit(graph, SYMBOLS) == [x2 * (x0 + x1)]


def test_trained_style_nau_nmu_stack_emits_product_of_sum():
    model = StackedModel([NAU(3, 2), NMU(2, 1)]).double()
    nau, nmu = model.arithmetic_units()
    with torch.no_grad():
        nau.weight.copy_(torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
        nmu.weight.fill_(1.0)
    records = model.snap()
    graph = prune(build_graph(records, n_inputs=3))
    assert emit(graph, SYMBOLS) == [x2 * (x0 + x1)]
    X = np.array([[1.0, 2.0, 3.0], [0.5, -4.0, 2.0]])
    with torch.no_grad():
        expected = model(torch.tensor(X)).numpy()
    np.testing.assert_allclose(evaluate_graph(graph, X), expected)


def test_primitive_output_emits_sin_of_difference():
    sin = BUILTIN_PRIMITIVES.get("sin")
    record = SnappedUnit(
        "attention",
        2,
        (PrimitiveOutput(sin, (LinearCombination((ONE, MINUS)),)),),
        0.0,
    )
    graph = prune(build_graph([record], n_inputs=2))
    assert emit(graph, SYMBOLS[:2]) == [sympy.sin(x0 - x1)]
    X = np.array([[3.0, 1.0], [0.25, 2.0]])
    np.testing.assert_array_equal(
        evaluate_graph(graph, X)[:, 0], np.sin(X[:, 0] - X[:, 1])
    )


def test_primitive_attention_unit_emits_sin_of_difference():
    unit = PrimitiveAttention(2, 1, primitives=("add", "mul", "sin")).double()
    index = unit.primitives.names.index("sin")
    with torch.no_grad():
        unit.logits.fill_(-40.0)
        unit.logits[0, index] = 40.0
        unit.weight.zero_()
        unit.weight[0, index, 0] = torch.tensor([1.0, -1.0])
    graph = prune(build_graph([unit.snap()], n_inputs=2))
    assert emit(graph, SYMBOLS[:2]) == [sympy.sin(x0 - x1)]


def test_shared_node_is_emitted_once(shared_records):
    calls = []

    def counting_sin(x):
        calls.append(x)
        return sympy.sin(x)

    sin = Primitive("counting_sin", 1, torch.sin, counting_sin)
    graph = prune(build_graph(shared_records(sin), n_inputs=3))
    assert sorted(graph.successors(("u", 0, 0))) == [("u", 1, 0), ("u", 1, 1)]
    emitted = emit(graph, SYMBOLS)
    assert calls == [x0 - x1]
    assert emitted == [x2 * sympy.sin(x0 - x1), x2 + sympy.sin(x0 - x1) + 1]
    replacements, _ = sympy.cse(emitted, symbols=sympy.numbered_symbols("t"))
    assert [value for _, value in replacements] == [sympy.sin(x0 - x1)]
    shared = [a for e in emitted for a in e.args if isinstance(a, sympy.sin)]
    assert len(shared) == 2 and shared[0] is shared[1]


def test_exact_and_float_constants():
    record = SnappedUnit(
        "nau", 2, (linear(Fraction(1, 3), 0.25, offset=Fraction(-1, 2)),), 0.0
    )
    (expression,) = emit(build_graph([record], n_inputs=2), SYMBOLS[:2])
    assert (
        expression == sympy.Rational(1, 3) * x0 + sympy.Float(0.25) * x1 - sympy.S.Half
    )
    assert expression.coeff(x0) == sympy.Rational(1, 3)


def test_int_weights_stay_exact():
    graph = build_graph([SnappedUnit("nau", 1, (linear(ONE),), 0.0)], n_inputs=1)
    graph.edges[("x", 0), ("u", 0, 0)]["weight"] = 2
    graph.nodes["u", 0, 0]["offset"] = 3
    assert emit(graph, SYMBOLS[:1]) == [2 * x0 + 3]


def test_half_power_of_negative_is_exactly_zero_in_both_backends():
    record = SnappedUnit("npu", 1, (ProductOutput((Fraction(1, 2),)),), 0.0)
    graph = build_graph([record], n_inputs=1)
    (expression,) = emit(graph, SYMBOLS[:1])
    X = np.array([[-4.0], [4.0]])
    np.testing.assert_array_equal(evaluate_graph(graph, X), [[0.0], [2.0]])
    np.testing.assert_array_equal(record.evaluate(X), [[0.0], [2.0]])
    assert expression.subs(x0, -4) == 0 and expression.subs(x0, 4) == 2


def test_power_of_an_expression_that_is_undefined_in_some_branch():
    """u = -x0 - 1, then u**(-1/2), **(-1/2), **(1/2): zoo appears in a branch.

    SymPy cannot compare zoo or nan with 0, so the signed power is taken
    branch by branch (this used to raise TypeError).
    """
    half = Fraction(1, 2)
    records = [
        SnappedUnit("nau", 1, (linear(MINUS, offset=MINUS),), 0.0),
        SnappedUnit("npu", 1, (ProductOutput((-half,)),), 0.0),
        SnappedUnit("npu", 1, (ProductOutput((-half,)),), 0.0),
        SnappedUnit("npu", 1, (ProductOutput((half,)),), 0.0),
    ]
    emitted = emit(build_graph(records, n_inputs=1), SYMBOLS[:1])
    assert emitted == chain_sympy(records, SYMBOLS[:1])
    assert compose_sympy(records, SYMBOLS[:1]) == emitted
    X = np.array([[-5.0], [-17.0], [1.0]])
    reference = chain_records(records, X)
    assert np.isnan(reference[2, 0])  # 0**(-1/2) on the way
    assert_close_where_reference_is_tame(lambdified(emitted, SYMBOLS[:1], X), reference)
    np.testing.assert_allclose(reference[:2, 0], [2**0.25, 2**0.5])


def test_unsigned_product_uses_magnitudes():
    record = SnappedUnit("nalu", 2, (ProductOutput((ONE, MINUS), signed=False),), 0.0)
    graph = build_graph([record], n_inputs=2)
    assert emit(graph, SYMBOLS[:2]) == [sympy.Abs(x0) / sympy.Abs(x1)]
    np.testing.assert_array_equal(
        evaluate_graph(graph, np.array([[-6.0, 2.0]])), [[3.0]]
    )


def test_argument_order_of_non_commutative_primitive():
    sub = BUILTIN_PRIMITIVES.get("sub")
    arguments = (LinearCombination((ZERO, ONE)), LinearCombination((ONE, ZERO)))
    record = SnappedUnit("attention", 2, (PrimitiveOutput(sub, arguments),), 0.0)
    graph = build_graph([record], n_inputs=2)
    assert emit(graph, SYMBOLS[:2]) == [x1 - x0]
    np.testing.assert_array_equal(
        evaluate_graph(graph, np.array([[1.0, 5.0]])), [[4.0]]
    )


def test_errors_name_the_problem():
    record = SnappedUnit("nau", 2, (linear(ONE, ONE),), 0.0)
    graph = build_graph([record], n_inputs=2)
    with pytest.raises(ValueError, match="2 inputs, got 3 symbols"):
        emit(graph, SYMBOLS)
    with pytest.raises(ValueError, match="2 inputs, got 1 columns"):
        evaluate_graph(graph, np.ones((4, 1)))
    with pytest.raises(ValueError, match="must be 2-D"):
        evaluate_graph(graph, np.ones(2))
    sub = BUILTIN_PRIMITIVES.get("sub")
    arguments = (LinearCombination((ONE, ZERO)), LinearCombination((ZERO, ONE)))
    bad = build_graph(
        [SnappedUnit("attention", 2, (PrimitiveOutput(sub, arguments),), 0.0)], 2
    )
    bad.edges[("a", 0, 0, 1), ("u", 0, 0)]["arg"] = 0
    with pytest.raises(ValueError, match="one argument at each position"):
        emit(bad, SYMBOLS[:2])
    graph.nodes["u", 0, 0]["op"] = "pow"
    with pytest.raises(ValueError, match="op='pow'"):
        evaluate_graph(graph, np.ones((1, 2)))


# Random snapped networks -------------------------------------------------------

COEFFICIENTS = st.sampled_from([MINUS, ZERO, ONE])
OFFSETS = st.sampled_from([ZERO, Fraction(1, 2), Fraction(-1), 0.25])
EXPONENTS = st.sampled_from([Fraction(k, 2) for k in range(-4, 5)])
SAFE_PRIMITIVES = st.sampled_from(
    [BUILTIN_PRIMITIVES.get(n) for n in ("add", "mul", "sin", "neg", "identity")]
)


def combinations(width):
    return st.builds(LinearCombination, st.tuples(*[COEFFICIENTS] * width), OFFSETS)


def primitive_outputs(width):
    return SAFE_PRIMITIVES.flatmap(
        lambda p: st.builds(
            PrimitiveOutput, st.just(p), st.tuples(*[combinations(width)] * p.arity)
        )
    )


def snapped_outputs(width):
    return st.one_of(
        st.builds(LinearOutput, combinations(width)),
        st.builds(ProductOutput, st.tuples(*[EXPONENTS] * width), st.just(True)),
        primitive_outputs(width),
    )


@st.composite
def networks(draw):
    """Return (records, X): 1-3 snapped layers of width 1-3, and inputs in [0.5, 3]."""
    n_inputs = width = draw(st.integers(1, 3))
    records = []
    for _ in range(draw(st.integers(1, 3))):
        outputs = draw(st.lists(snapped_outputs(width), min_size=1, max_size=3))
        records.append(SnappedUnit("random", width, tuple(outputs), 0.0))
        width = len(outputs)
    X = draw(arrays(np.float64, (4, n_inputs), elements=st.floats(0.5, 3.0)))
    return records, X


@settings(max_examples=50, deadline=None)
@given(networks())
def test_emitted_expressions_match_chained_records(network):
    records, X = network
    symbols = SYMBOLS[: X.shape[1]]
    emitted = emit(prune(build_graph(records, X.shape[1])), symbols)
    assert emitted == chain_sympy(records, symbols)
    assert compose_sympy(records, symbols) == emitted
    reference = chain_records(records, X)
    actual = lambdified(emitted, symbols, X)
    assert_close_where_reference_is_tame(actual, reference)


@settings(max_examples=50, deadline=None)
@given(networks())
def test_pruning_and_graph_evaluation_keep_values(network):
    records, X = network
    graph = build_graph(records, X.shape[1])
    values = evaluate_graph(graph, X)
    np.testing.assert_array_equal(evaluate_graph(prune(graph), X), values)
    assert_close_where_reference_is_tame(values, chain_records(records, X))


@settings(max_examples=50, deadline=None)
@given(networks())
def test_simplify_checked_keeps_values(network):
    records, X = network
    symbols = SYMBOLS[: X.shape[1]]
    emitted = emit(prune(build_graph(records, X.shape[1])), symbols)
    sample_points = np.random.default_rng(0).uniform(0.5, 3.0, (8, len(symbols)))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        simplified = [simplify_checked(e, symbols, sample_points) for e in emitted]
    reference = chain_records(records, X)
    assert_close_where_reference_is_tame(lambdified(simplified, symbols, X), reference)

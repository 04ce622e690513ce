"""build_graph and prune on hand-built snapped networks."""

from fractions import Fraction

import networkx as nx
import numpy as np
import pytest

from nalu_sr.extraction import build_graph, evaluate_graph, output_nodes, prune
from nalu_sr.primitives import BUILTIN_PRIMITIVES
from nalu_sr.units import (
    LinearCombination,
    LinearOutput,
    PrimitiveOutput,
    ProductOutput,
    SnappedUnit,
)

ONE, ZERO, MINUS = Fraction(1), Fraction(0), Fraction(-1)


def linear(*coefficients, offset=ZERO):
    return LinearOutput(LinearCombination(tuple(coefficients), offset))


def nau_nmu_records():
    """NAU -> NMU computing (x0 + x1) * x2, with a dead hidden unit x0 - x2."""
    nau = SnappedUnit(
        "nau",
        3,
        (linear(ONE, ONE, ZERO), linear(ZERO, ZERO, ONE), linear(ONE, ZERO, MINUS)),
        0.0,
    )
    nmu = SnappedUnit("nmu", 3, (ProductOutput((ONE, ONE, ZERO)),), 0.0)
    return [nau, nmu]


def edge_weights(graph):
    return {(u, v): w for u, v, w in graph.edges(data="weight")}


def test_nau_nmu_graph_has_exact_nodes_and_weights():
    graph = build_graph(nau_nmu_records(), n_inputs=3)
    assert graph.graph["n_inputs"] == 3
    assert dict(graph.nodes(data="op")) == {
        ("x", 0): "input",
        ("x", 1): "input",
        ("x", 2): "input",
        ("u", 0, 0): "sum",
        ("u", 0, 1): "sum",
        ("u", 0, 2): "sum",
        ("u", 1, 0): "product",
        ("y", 0): "output",
    }
    assert edge_weights(graph) == {
        (("x", 0), ("u", 0, 0)): ONE,
        (("x", 1), ("u", 0, 0)): ONE,
        (("x", 2), ("u", 0, 1)): ONE,
        (("x", 0), ("u", 0, 2)): ONE,
        (("x", 2), ("u", 0, 2)): MINUS,
        (("u", 0, 0), ("u", 1, 0)): ONE,
        (("u", 0, 1), ("u", 1, 0)): ONE,
        (("u", 1, 0), ("y", 0)): ONE,
    }
    assert all(isinstance(w, Fraction) for w in edge_weights(graph).values())
    assert graph.nodes["u", 0, 0]["offset"] == ZERO
    assert graph.nodes["u", 1, 0]["signed"] is True


def test_prune_removes_dead_unit_and_zero_edges():
    graph = build_graph(nau_nmu_records(), n_inputs=3)
    graph.add_edge(("u", 0, 2), ("u", 1, 0), weight=ZERO)
    pruned = prune(graph)
    assert set(pruned) == {
        ("x", 0),
        ("x", 1),
        ("x", 2),
        ("u", 0, 0),
        ("u", 0, 1),
        ("u", 1, 0),
        ("y", 0),
    }
    assert all(w != 0 for w in edge_weights(pruned).values())
    assert pruned.graph["n_inputs"] == 3
    assert ("u", 0, 2) in graph and graph.has_edge(("u", 0, 2), ("u", 1, 0))
    X = np.array([[1.0, 2.0, 3.0], [-0.5, 4.0, 2.0]])
    np.testing.assert_array_equal(evaluate_graph(pruned, X), [[9.0], [7.0]])
    np.testing.assert_array_equal(evaluate_graph(graph, X), [[9.0], [7.0]])


def test_prune_drops_unread_inputs_but_keeps_constant_outputs():
    record = SnappedUnit(
        "nau", 2, (linear(ONE, ZERO), linear(ZERO, ZERO, offset=Fraction(3))), 0.0
    )
    pruned = prune(build_graph([record], n_inputs=2))
    assert ("x", 1) not in pruned
    assert set(pruned.predecessors(("y", 1))) == {("u", 0, 1)}
    X = np.array([[2.0, 7.0]])
    np.testing.assert_array_equal(evaluate_graph(pruned, X), [[2.0, 3.0]])


def test_primitive_record_adds_argument_nodes():
    sin = BUILTIN_PRIMITIVES.get("sin")
    attention = SnappedUnit(
        "attention",
        2,
        (PrimitiveOutput(sin, (LinearCombination((ONE, MINUS), Fraction(1, 2)),)),),
        0.0,
    )
    graph = build_graph([attention], n_inputs=2)
    assert graph.nodes["u", 0, 0] == {"op": "primitive", "primitive": sin}
    assert graph.nodes["a", 0, 0, 0] == {"op": "sum", "offset": Fraction(1, 2)}
    assert graph.edges[("a", 0, 0, 0), ("u", 0, 0)] == {"arg": 0}
    assert edge_weights(graph)[("x", 1), ("a", 0, 0, 0)] == MINUS


def test_shared_hidden_node_feeds_two_outputs(shared_records):
    records = shared_records()
    graph = prune(build_graph(records, n_inputs=3))
    assert graph.out_degree(("u", 0, 0)) == 2
    assert output_nodes(graph) == [("y", 0), ("y", 1)]


def test_float_offsets_and_weights_are_kept():
    record = SnappedUnit("nau", 1, (linear(0.25, offset=1.5),), 0.0)
    graph = build_graph([record], n_inputs=1)
    assert graph.edges[("x", 0), ("u", 0, 0)]["weight"] == 0.25
    assert graph.nodes["u", 0, 0]["offset"] == 1.5


def test_unsigned_product_flag():
    record = SnappedUnit("nalu", 1, (ProductOutput((ONE,), signed=False),), 0.0)
    assert build_graph([record], n_inputs=1).nodes["u", 0, 0]["signed"] is False


def test_build_graph_rejects_mismatched_widths():
    with pytest.raises(ValueError, match="at least one"):
        build_graph([], n_inputs=2)
    nau, _ = nau_nmu_records()
    nmu = SnappedUnit("nmu", 2, (ProductOutput((ONE, ONE)),), 0.0)
    with pytest.raises(ValueError, match=r"unit 1 \(nmu\) takes 2 inputs"):
        build_graph([nau, nmu], n_inputs=3)
    record = SnappedUnit("nau", 2, (linear(ONE),), 0.0)
    with pytest.raises(ValueError, match="1 weights for 2 inputs"):
        build_graph([record], n_inputs=2)


def test_prune_rejects_cycles():
    graph = build_graph(nau_nmu_records(), n_inputs=3)
    graph.add_edge(("u", 1, 0), ("u", 0, 0), weight=ONE)
    with pytest.raises(ValueError, match="cycle"):
        prune(graph)


def test_prune_is_deterministic_and_keeps_attributes(shared_records):
    graph = build_graph(shared_records(), n_inputs=3)
    first, second = prune(graph), prune(graph)
    assert list(first.nodes(data=True)) == list(second.nodes(data=True))
    assert list(first) == [node for node in graph if node in first]
    assert nx.is_directed_acyclic_graph(first)

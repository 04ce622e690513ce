"""Expression graphs to SymPy expressions, and their numeric evaluation.

This is the one route from snapped records to a model's formula:
:func:`nalu_sr.model.compose_sympy` calls :func:`emit` too. Each node is read
back as the snapped record it came from (a
:class:`~nalu_sr.units.LinearCombination` for ``"sum"`` nodes, a
:class:`~nalu_sr.units.ProductOutput` for ``"product"`` nodes), so the graph
and the records share one set of symbolic and numeric conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import sympy

from nalu_sr.extraction.graph import Node, output_nodes
from nalu_sr.units import LinearCombination, ProductOutput
from nalu_sr.units.snapped import evaluate_primitive

T = TypeVar("T")


def emit(graph: nx.DiGraph, symbols: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """Read one SymPy expression per output node off an expression graph.

    Nodes are visited once each, in topological order, and their expressions
    kept in a memo, so a node used by several others becomes one shared
    subexpression.

    Parameters
    ----------
    graph : networkx.DiGraph
        An expression graph (see :mod:`nalu_sr.extraction.graph`).
    symbols : sequence of sympy.Expr
        One symbol (or any expression) per model input; input ``("x", i)``
        becomes ``symbols[i]``.

    Returns
    -------
    list of sympy.Expr
        One expression per output node ``("y", k)``, in increasing ``k``.

    Raises
    ------
    ValueError
        If the number of symbols does not match the graph's ``n_inputs``, or
        a node is malformed.

    Examples
    --------
    >>> from fractions import Fraction
    >>> import sympy
    >>> from nalu_sr.extraction import build_graph
    >>> from nalu_sr.units import ProductOutput, SnappedUnit
    >>> nmu = SnappedUnit("nmu", 2, (ProductOutput((Fraction(1), Fraction(1))),), 0.0)
    >>> emit(build_graph([nmu], n_inputs=2), sympy.symbols("a b"))
    [a*b]
    """
    _check_width(graph, len(symbols), "symbols")
    memo = _propagate(graph, lambda i: symbols[i], _emit_node)
    return [memo[out] for out in output_nodes(graph)]


def evaluate_graph(graph: nx.DiGraph, X: np.ndarray) -> np.ndarray:
    """Evaluate an expression graph numerically in float64.

    Uses the numeric conventions of :meth:`nalu_sr.units.SnappedUnit.evaluate`
    (signed powers, exact torch primitives); values off a primitive's domain
    become ``nan`` or ``inf`` without warnings.

    Parameters
    ----------
    graph : networkx.DiGraph
        An expression graph (see :mod:`nalu_sr.extraction.graph`).
    X : numpy.ndarray
        Model inputs of shape ``(n, n_inputs)``.

    Returns
    -------
    numpy.ndarray
        Outputs of shape ``(n, n_outputs)``, columns in increasing ``k``.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D or its width does not match the graph's
        ``n_inputs``, or a node is malformed.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    _check_width(graph, X.shape[1], "columns in X")
    n = X.shape[0]
    with np.errstate(all="ignore"):
        values = _propagate(
            graph,
            lambda i: X[:, i],
            lambda g, node, memo: _evaluate_node(g, node, memo, n),
        )
    columns = [values[out] for out in output_nodes(graph)]
    return np.stack(columns, axis=1) if columns else np.empty((n, 0))


def _check_width(graph: nx.DiGraph, width: int, what: str) -> None:
    """Raise if ``width`` differs from the graph's ``n_inputs`` (when known)."""
    n_inputs = graph.graph.get("n_inputs")
    if n_inputs is not None and width != n_inputs:
        raise ValueError(f"the graph has {n_inputs} inputs, got {width} {what}")


def _propagate(
    graph: nx.DiGraph,
    read_input: Callable[[int], T],
    compute: Callable[[nx.DiGraph, Node, Mapping[Node, T]], T],
) -> dict[Node, T]:
    """Compute every node's value once, parents first."""
    memo: dict[Node, T] = {}
    for node in nx.topological_sort(graph):
        if graph.nodes[node].get("op") == "input":
            memo[node] = read_input(node[1])
        else:
            memo[node] = compute(graph, node, memo)
    return memo


def _emit_node(
    graph: nx.DiGraph, node: Node, memo: Mapping[Node, sympy.Expr]
) -> sympy.Expr:
    """SymPy expression of a non-input node, given its parents' expressions."""
    op = graph.nodes[node].get("op")
    if op == "primitive":
        arguments = [memo[parent] for parent in _primitive_arguments(graph, node)]
        return graph.nodes[node]["primitive"].to_sympy(*arguments)
    parents, record = _node_record(graph, node)
    return record.to_sympy([memo[parent] for parent in parents])


def _evaluate_node(
    graph: nx.DiGraph, node: Node, memo: Mapping[Node, np.ndarray], n: int
) -> np.ndarray:
    """Float64 values of a non-input node, given its parents' values."""
    op = graph.nodes[node].get("op")
    if op == "primitive":
        arguments = [memo[parent] for parent in _primitive_arguments(graph, node)]
        return evaluate_primitive(graph.nodes[node]["primitive"], arguments)
    parents, record = _node_record(graph, node)
    columns = [memo[parent] for parent in parents]
    inputs = np.stack(columns, axis=1) if columns else np.empty((n, 0))
    return np.asarray(record.evaluate(inputs), dtype=np.float64)


def _node_record(
    graph: nx.DiGraph, node: Node
) -> tuple[list[Node], LinearCombination | ProductOutput]:
    """Return a sum, product or output node's parents and the record it computes.

    Parents joined by a zero weight are left out; an output node is a sum of
    its single parent with weight 1.
    """
    attributes = graph.nodes[node]
    parents = [p for p in _sorted_parents(graph, node) if _weight(graph, p, node) != 0]
    weights = tuple(_weight(graph, p, node) for p in parents)
    op = attributes.get("op")
    if op == "sum":
        return parents, LinearCombination(
            weights, attributes.get("offset", Fraction(0))
        )
    if op == "product":
        return parents, ProductOutput(weights, attributes.get("signed", True))
    if op == "output" and len(parents) == 1:
        return parents, LinearCombination(weights)
    raise ValueError(f"cannot compute node {node} with op={op!r}")


def _weight(graph: nx.DiGraph, parent: Node, node: Node) -> Any:
    """Weight of an edge; a missing weight counts as 1."""
    return graph.edges[parent, node].get("weight", Fraction(1))


def _primitive_arguments(graph: nx.DiGraph, node: Node) -> list[Node]:
    """Return a primitive node's argument nodes, ordered by their edges' ``arg``."""
    primitive = graph.nodes[node]["primitive"]
    by_position = {graph.edges[p, node].get("arg"): p for p in graph.predecessors(node)}
    expected = list(range(primitive.arity))
    if set(by_position) != set(expected) or graph.in_degree(node) != len(expected):
        raise ValueError(
            f"primitive node {node} ({primitive.name}) needs one argument at each "
            f"position 0..{primitive.arity - 1}, got {sorted(map(str, by_position))}"
        )
    return [by_position[position] for position in range(primitive.arity)]


def _sorted_parents(graph: nx.DiGraph, node: Node) -> list[Node]:
    """Return a node's parents sorted by key, so sums do not depend on edge order."""
    return sorted(graph.predecessors(node), key=_node_sort_key)


def _node_sort_key(node: Node) -> tuple[tuple[bool, Any], ...]:
    """Key ordering tuples of strings and ints part by part."""
    return tuple((isinstance(part, str), part) for part in node)

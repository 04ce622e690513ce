"""Snapped units as a ``networkx`` expression graph, and its pruning.

Node keys are tuples: ``("x", i)`` for model inputs, ``("u", layer, j)`` for
unit outputs, ``("a", layer, j, arg)`` for the arguments of a primitive and
``("y", k)`` for model outputs. The ``op`` attribute says what a node computes:

``"input"``
    Model input ``i``.
``"sum"``
    ``sum(weight * child) + offset``; the edges carry ``weight``, the node
    carries ``offset``.
``"product"``
    ``prod(child ** weight)``; the edges carry the exponents as ``weight``,
    the node carries ``signed`` (see :class:`~nalu_sr.units.ProductOutput`).
``"primitive"``
    ``primitive(*arguments)``; the node carries the ``primitive``, the edges
    from its argument nodes carry the argument position ``arg``.
``"output"``
    A copy of its single parent (edge ``weight`` 1).

Weights are exact :class:`~fractions.Fraction` values, or floats for constants
that were not snapped. The graph attribute ``n_inputs`` holds the number of
model inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import networkx as nx

from nalu_sr.units import (
    LinearCombination,
    LinearOutput,
    PrimitiveOutput,
    ProductOutput,
    SnappedOutput,
    SnappedUnit,
)

Node = tuple[Any, ...]


def build_graph(records: Sequence[SnappedUnit], n_inputs: int) -> nx.DiGraph:
    """Turn snapped units, in stack order, into an expression graph.

    Parameters
    ----------
    records : sequence of SnappedUnit
        Snapped units in stack order: the first reads the model inputs, the
        last one's outputs are the model outputs.
    n_inputs : int
        Number of model inputs.

    Returns
    -------
    networkx.DiGraph
        The graph described in :mod:`nalu_sr.extraction.graph`, with one
        ``("y", k)`` node per output of the last unit. Zero weights get no edge.

    Raises
    ------
    ValueError
        If there are no records, or a unit's ``in_features`` does not match
        the number of values it reads.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from nalu_sr.units import LinearCombination, LinearOutput, SnappedUnit
    >>> difference = LinearCombination((Fraction(1), Fraction(-1)))
    >>> nau = SnappedUnit("nau", 2, (LinearOutput(difference),), 0.0)
    >>> graph = build_graph([nau], n_inputs=2)
    >>> graph.edges[("x", 1), ("u", 0, 0)]["weight"]
    Fraction(-1, 1)
    """
    if not records:
        raise ValueError("build_graph needs at least one snapped unit")
    graph = nx.DiGraph(n_inputs=n_inputs)
    sources: list[Node] = [("x", i) for i in range(n_inputs)]
    graph.add_nodes_from(sources, op="input")
    for layer, record in enumerate(records):
        _check_width(record, layer, len(sources))
        for j, output in enumerate(record.outputs):
            _add_output(graph, ("u", layer, j), output, sources)
        sources = [("u", layer, j) for j in range(record.out_features)]
    for k, source in enumerate(sources):
        graph.add_node(("y", k), op="output")
        graph.add_edge(source, ("y", k), weight=Fraction(1))
    return graph


def _check_width(record: SnappedUnit, layer: int, width: int) -> None:
    """Raise if a unit does not read exactly ``width`` values."""
    if record.in_features != width:
        raise ValueError(
            f"unit {layer} ({record.kind}) takes {record.in_features} inputs, "
            f"but {width} values feed it"
        )


def _add_output(
    graph: nx.DiGraph, node: Node, output: SnappedOutput, sources: Sequence[Node]
) -> None:
    """Add the node (and argument nodes) computing one snapped output."""
    if isinstance(output, LinearOutput):
        _add_sum(graph, node, output.combination, sources)
    elif isinstance(output, ProductOutput):
        graph.add_node(node, op="product", signed=output.signed)
        _add_weighted_edges(graph, node, output.exponents, sources)
    elif isinstance(output, PrimitiveOutput):
        graph.add_node(node, op="primitive", primitive=output.primitive)
        for position, combination in enumerate(output.arguments):
            argument = ("a", *node[1:], position)
            _add_sum(graph, argument, combination, sources)
            graph.add_edge(argument, node, arg=position)
    else:
        raise TypeError(f"unknown snapped output {output!r}")


def _add_sum(
    graph: nx.DiGraph,
    node: Node,
    combination: LinearCombination,
    sources: Sequence[Node],
) -> None:
    """Add a ``"sum"`` node for a linear combination of ``sources``."""
    graph.add_node(node, op="sum", offset=combination.offset)
    _add_weighted_edges(graph, node, combination.coefficients, sources)


def _add_weighted_edges(
    graph: nx.DiGraph,
    node: Node,
    weights: Sequence[Fraction | float],
    sources: Sequence[Node],
) -> None:
    """Add an edge from each source with a non-zero weight into ``node``."""
    if len(weights) != len(sources):
        raise ValueError(f"{node} has {len(weights)} weights for {len(sources)} inputs")
    for source, weight in zip(sources, weights, strict=True):
        if weight != 0:
            graph.add_edge(source, node, weight=weight)


def output_nodes(graph: nx.DiGraph) -> list[Node]:
    """Return the ``"output"`` nodes of ``graph``, ordered by their index ``k``.

    Parameters
    ----------
    graph : networkx.DiGraph
        An expression graph.

    Returns
    -------
    list of tuple
        The output nodes ``("y", k)`` in increasing ``k``.
    """
    outputs = [n for n, op in graph.nodes(data="op") if op == "output"]
    return sorted(outputs, key=lambda node: node[1:])


def prune(graph: nx.DiGraph) -> nx.DiGraph:
    """Return a copy of ``graph`` without zero-weight edges and dead nodes.

    Zero-weight edges are removed first; then only the outputs and the nodes
    they depend on are kept. Neither step changes the value of any output.

    Parameters
    ----------
    graph : networkx.DiGraph
        An expression graph, as made by :func:`build_graph`.

    Returns
    -------
    networkx.DiGraph
        A new graph; node, edge and graph attributes are shallow copies.

    Raises
    ------
    ValueError
        If the pruned graph has a cycle.
    """
    pruned = graph.copy()
    pruned.remove_edges_from(
        [(u, v) for u, v, w in graph.edges(data="weight") if w is not None and w == 0]
    )
    keep: set[Node] = set()
    for out in output_nodes(pruned):
        keep |= nx.ancestors(pruned, out) | {out}
    # Removing (not taking a subgraph) keeps the node order deterministic.
    pruned.remove_nodes_from([node for node in graph if node not in keep])
    if not nx.is_directed_acyclic_graph(pruned):
        raise ValueError("the expression graph has a cycle")
    return pruned

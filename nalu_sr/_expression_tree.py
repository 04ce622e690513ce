"""The expression tree of a formula, as a graph with a layout to draw it.

:func:`expression_graph` is public through :mod:`nalu_sr.plotting`, which
draws the tree; nothing here needs matplotlib.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import sympy

from nalu_sr.export.text import sympy_to_string

#: Significant digits of the float constants shown in plots.
PLOT_PRECISION = 3
_OPERATION_LABELS = {sympy.Add: "+", sympy.Mul: "×", sympy.Pow: "^"}


def expression_graph(expression: sympy.Basic) -> nx.DiGraph:
    """Turn a formula's expression tree into a ``networkx`` graph.

    Nodes are numbered in preorder (the root is 0) and carry a ``label``
    (``+``, ``×``, ``^``, a function name, a symbol or a number, floats to
    three significant digits) and a ``kind`` (``"operation"``,
    ``"function"``, ``"symbol"`` or ``"number"``). Edges point from an
    argument to the node that uses it, as values flow, and carry the
    argument's ``position``.

    Parameters
    ----------
    expression : sympy.Basic
        The formula.

    Returns
    -------
    networkx.DiGraph
        One node per node of the SymPy tree (as many as its complexity).

    Examples
    --------
    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> graph = expression_graph(x / y)
    >>> [graph.nodes[n]["label"] for n in graph]
    ['×', 'x', '^', 'y', '-1']
    >>> sorted(graph.edges)
    [(1, 0), (2, 0), (3, 2), (4, 2)]
    """
    graph = nx.DiGraph()
    stack: list[tuple[sympy.Basic, int | None, int]] = [(expression, None, 0)]
    while stack:
        node, parent, position = stack.pop()
        number = graph.number_of_nodes()
        label, kind = _describe(node)
        graph.add_node(number, label=label, kind=kind)
        if parent is not None:
            graph.add_edge(number, parent, position=position)
        # Reversed, so that the first argument is popped (numbered) first.
        arguments = list(enumerate(node.args))
        stack.extend((arg, number, i) for i, arg in reversed(arguments))
    return graph


def _describe(node: sympy.Basic) -> tuple[str, str]:
    """Label and kind of one node of an expression tree."""
    if isinstance(node, sympy.Symbol):
        return node.name, "symbol"
    if not node.args:
        return sympy_to_string(node, PLOT_PRECISION), "number"
    for operation, label in _OPERATION_LABELS.items():
        if isinstance(node, operation):
            return label, "operation"
    relation = getattr(node, "rel_op", None)
    return (relation or type(node).__name__), "function"


def tree_layout(graph: nx.DiGraph) -> dict[int, tuple[float, float]]:
    """Place the root at the top, each argument a row below, leaves evenly."""
    positions: dict[int, tuple[float, float]] = {}
    next_leaf = 0.0

    def place(node: int, depth: int) -> float:
        nonlocal next_leaf
        arguments = sorted(
            graph.predecessors(node), key=lambda a: graph.edges[a, node]["position"]
        )
        if arguments:
            x = float(np.mean([place(a, depth + 1) for a in arguments]))
        else:
            x, next_leaf = next_leaf, next_leaf + 1.0
        positions[node] = (x, -float(depth))
        return x

    place(0, 0)
    return positions

"""Extraction: snapped units to a pruned expression graph to a SymPy formula.

The stages are pure functions: :func:`build_graph` turns snapped unit records
into a ``networkx`` graph, :func:`prune` drops what cannot reach an output,
:func:`emit` reads SymPy expressions off the graph (and
:func:`evaluate_graph` evaluates it numerically), and
:func:`simplify_checked` simplifies an expression only when sample points
confirm that its value did not change.
"""

from nalu_sr.extraction.emit import emit, evaluate_graph
from nalu_sr.extraction.graph import build_graph, output_nodes, prune
from nalu_sr.extraction.simplify import evaluate_sympy, simplify_checked

__all__ = [
    "build_graph",
    "emit",
    "evaluate_graph",
    "evaluate_sympy",
    "output_nodes",
    "prune",
    "simplify_checked",
]

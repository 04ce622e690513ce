"""Plots of a fitted :class:`~nalu_sr.NALURegressor`, and a report that holds them.

matplotlib is an optional dependency (``pip install nalu_sr[plot]``), imported
only when a plot is drawn. Each ``plot_*`` function draws into the given
Axes, or into a new figure's, and returns the Axes.

- :func:`plot_pareto`: complexity against validation error of every
  candidate, the complexity-loss front, and the chosen formula.
- :func:`plot_predictions`: predicted against true values, on the training
  range and, optionally, on extrapolation data.
- :func:`plot_graph`: the chosen formula's expression tree.
- :func:`write_report`: all three as PNG files, with a markdown report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import networkx as nx
import numpy as np
import sympy
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted

from nalu_sr._equations import LOSS_FLOOR, table_rows
from nalu_sr._expression_tree import PLOT_PRECISION, expression_graph, tree_layout
from nalu_sr.export.text import sympy_to_string

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "PLOT_PRECISION",
    "FittedRegressor",
    "expression_graph",
    "pareto_front",
    "plot_graph",
    "plot_pareto",
    "plot_predictions",
    "require_matplotlib",
    "write_report",
]

_INSTALL_HINT = (
    "plotting needs matplotlib, which is not installed: pip install nalu_sr[plot]"
)
_NODE_COLOURS = {
    "operation": "#9ecae1",
    "function": "#fdae6b",
    "symbol": "#a1d99b",
    "number": "#d9d9d9",
}


class FittedRegressor(Protocol):
    """What the plots read from a fitted (or loaded) ``NALURegressor``."""

    equations_: Any
    best_index_: int
    precision_floor_: float
    exact_: bool
    loss_: float
    n_iter_: int

    def predict(self, X: Any) -> np.ndarray:
        """Evaluate the chosen formula."""

    def sympy(self, index: int | None = None) -> sympy.Expr:
        """Return the chosen formula, or candidate ``index``."""

    def to_string(self, index: int | None = None, precision: int | None = None) -> str:
        """Return the chosen (or ``index``) formula as a string."""

    def latex(self, index: int | None = None, precision: int | None = 3) -> str:
        """Return the chosen (or ``index``) formula as LaTeX."""


def require_matplotlib() -> None:
    """Check that matplotlib can be imported.

    Raises
    ------
    ImportError
        Naming the ``nalu_sr[plot]`` extra, if it cannot.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error


def _new_axes(ax: Axes | None) -> Axes:
    """Return ``ax``, or the Axes of a new pyplot figure."""
    if ax is not None:
        return ax
    require_matplotlib()
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def pareto_front(complexities: Sequence[int], losses: Sequence[float]) -> list[int]:
    """Return the positions of the candidates on the complexity-loss front.

    A candidate is on the front when every simpler candidate has a larger
    loss; among equal complexities only the lowest loss (first on ties) can be.

    Parameters
    ----------
    complexities : sequence of int
        Complexity of each candidate.
    losses : sequence of float
        Loss of each candidate.

    Returns
    -------
    list of int
        Positions, in increasing complexity (and decreasing loss).

    Examples
    --------
    >>> pareto_front([5, 3, 3, 7, 9], [0.1, 0.5, 0.2, 0.2, 1e-3])
    [2, 0, 4]
    """
    order = sorted(range(len(losses)), key=lambda i: (complexities[i], losses[i]))
    front: list[int] = []
    for i in order:
        if not front or losses[i] < losses[front[-1]]:
            if front and complexities[front[-1]] == complexities[i]:
                continue
            front.append(i)
    return front


def plot_pareto(estimator: FittedRegressor, ax: Axes | None = None) -> Axes:
    """Plot complexity against validation error of every candidate.

    The error axis is logarithmic (errors below ``eps**2`` are drawn at
    ``eps**2``); the line is the complexity-loss front, the star the chosen
    formula, the dashed line the precision floor a law must reach
    (``precision_floor_``).

    Parameters
    ----------
    estimator : FittedRegressor
        A fitted (or loaded) estimator.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; ``None`` draws in a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes: ``collections[0]`` holds one point per candidate,
        ``collections[1]`` the chosen one.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    check_is_fitted(estimator)
    ax = _new_axes(ax)
    rows = table_rows(estimator.equations_)
    complexities = [int(row["complexity"]) for row in rows]
    losses = [max(float(row["loss"]), LOSS_FLOOR) for row in rows]
    ax.scatter(complexities, losses, color="C0", alpha=0.6, label="candidates")
    chosen = estimator.best_index_
    formula = sympy_to_string(estimator.sympy(chosen), PLOT_PRECISION)
    ax.scatter(
        [complexities[chosen]],
        [losses[chosen]],
        marker="*",
        s=250,
        color="C3",
        zorder=3,
        label=f"chosen: {formula}",
    )
    front = pareto_front(complexities, losses)
    ax.step(
        [complexities[i] for i in front],
        [losses[i] for i in front],
        where="post",
        color="C0",
        linewidth=1,
        label="complexity-loss front",
    )
    floor = estimator.precision_floor_
    if floor > LOSS_FLOOR:
        ax.axhline(
            floor,
            color="grey",
            linestyle="--",
            linewidth=1,
            label=f"precision floor = {floor:.3g}",
        )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yscale("log")
    ax.set_xlabel("complexity (nodes of the expression tree)")
    ax.set_ylabel("relative validation error (MSE / variance)")
    ax.set_title("Candidates")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_predictions(
    estimator: FittedRegressor,
    X: Any,
    y: Any,
    X_extrapolation: Any = None,
    y_extrapolation: Any = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot the chosen formula's predictions against the true values.

    Parameters
    ----------
    estimator : FittedRegressor
        A fitted (or loaded) estimator.
    X : array-like of shape (n_samples, n_features)
        Inputs from the training range.
    y : array-like of shape (n_samples,)
        Their true values; the range of ``y`` is shaded.
    X_extrapolation : array-like of shape (m_samples, n_features) or None
        Inputs outside the training range, drawn in another colour.
    y_extrapolation : array-like of shape (m_samples,) or None
        Their true values; required with ``X_extrapolation``.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; ``None`` draws in a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes: ``collections`` hold the training points first, then the
        extrapolation points if any; each label gives its R².

    Raises
    ------
    ValueError
        If only one of ``X_extrapolation`` and ``y_extrapolation`` is given.
    ImportError
        If matplotlib is not installed.
    """
    if (X_extrapolation is None) != (y_extrapolation is None):
        raise ValueError("give both X_extrapolation and y_extrapolation, or neither")
    check_is_fitted(estimator)
    ax = _new_axes(ax)
    y = np.asarray(y, dtype=np.float64)
    groups = [("training range", X, y, "C0", "o")]
    if X_extrapolation is not None:
        y_far = np.asarray(y_extrapolation, dtype=np.float64)
        groups.append(("extrapolation", X_extrapolation, y_far, "C1", "^"))
    shown = []
    for name, inputs, truth, colour, marker in groups:
        predicted = estimator.predict(inputs)
        label = f"{name}: R² = {_r2(truth, predicted)}"
        ax.scatter(truth, predicted, s=14, color=colour, marker=marker, label=label)
        shown.extend([truth, predicted])
    ax.axvspan(float(y.min()), float(y.max()), color="C0", alpha=0.08)
    low, high = _finite_range(np.concatenate(shown))
    ax.plot([low, high], [low, high], color="black", linewidth=1, linestyle="--")
    ax.set_xlabel("true value (shaded: range of the training targets)")
    ax.set_ylabel("predicted value")
    ax.set_title(sympy_to_string(estimator.sympy(), PLOT_PRECISION))
    ax.legend(loc="best", fontsize="small")
    return ax


def _r2(truth: np.ndarray, predicted: np.ndarray) -> str:
    """Format R², or say why there is none."""
    if not np.all(np.isfinite(predicted)):
        return "n/a (non-finite predictions)"
    if len(truth) < 2:
        return "n/a (fewer than 2 points)"
    return f"{r2_score(truth, predicted):.6g}"


def _finite_range(values: np.ndarray) -> tuple[float, float]:
    """Smallest and largest finite value (0 and 1 if there is none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def plot_graph(
    estimator: FittedRegressor, index: int | None = None, ax: Axes | None = None
) -> Axes:
    """Draw a formula's expression tree, the root (the output) at the top.

    The estimator keeps formulas, not the pruned network graph they were
    read from, so the tree of the SymPy formula is drawn: operations,
    functions (the primitives), the feature symbols and the numbers (weights,
    exponents and constants), arrows pointing from arguments to their use.

    Parameters
    ----------
    estimator : FittedRegressor
        A fitted (or loaded) estimator.
    index : int or None, default=None
        Candidate number in ``equations_``; ``None`` means the chosen one.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; ``None`` draws in a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes: ``collections[0]`` holds one point per tree node and
        ``texts`` their labels.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    check_is_fitted(estimator)
    ax = _new_axes(ax)
    expression = estimator.sympy(index)
    graph = expression_graph(expression)
    nx.draw_networkx(
        graph,
        tree_layout(graph),
        ax=ax,
        labels=dict(graph.nodes(data="label")),
        node_color=[_NODE_COLOURS[kind] for _, kind in graph.nodes(data="kind")],
        node_size=700,
        font_size=9,
        arrows=True,
        arrowstyle="-|>",
        edge_color="grey",
    )
    ax.set_axis_off()
    ax.set_title(sympy_to_string(expression, PLOT_PRECISION))
    return ax


def write_report(
    estimator: FittedRegressor,
    X: Any,
    y: Any,
    directory: str | Path,
    X_extrapolation: Any = None,
    y_extrapolation: Any = None,
) -> Path:
    """Write the plots as PNG files and a markdown report that shows them.

    The report (``report.md``) gives the chosen formula as text and LaTeX,
    its validation error and R² on ``X``, ``y``, the candidate table, and the
    images ``pareto.png``, ``predictions.png`` and ``graph.png`` beside it.

    Parameters
    ----------
    estimator : FittedRegressor
        A fitted (or loaded) estimator.
    X : array-like of shape (n_samples, n_features)
        Inputs, e.g. the training data.
    y : array-like of shape (n_samples,)
        Their true values.
    directory : str or pathlib.Path
        Where to write; created if missing, files in it overwritten.
    X_extrapolation, y_extrapolation : array-like or None, default=None
        Data outside the training range for the predictions plot.

    Returns
    -------
    pathlib.Path
        The report's path.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    check_is_fitted(estimator)
    require_matplotlib()
    from matplotlib.figure import Figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    drawings = {
        "pareto.png": lambda ax: plot_pareto(estimator, ax=ax),
        "predictions.png": lambda ax: plot_predictions(
            estimator, X, y, X_extrapolation, y_extrapolation, ax=ax
        ),
        "graph.png": lambda ax: plot_graph(estimator, ax=ax),
    }
    for name, draw in drawings.items():
        # A bare Figure, not pyplot: nothing stays open in pyplot's registry.
        figure = Figure(figsize=(7, 5), layout="constrained")
        draw(figure.subplots())
        figure.savefig(directory / name, dpi=110)
    report = directory / "report.md"
    report.write_text(_report_text(estimator, X, y))
    return report


def _report_text(estimator: FittedRegressor, X: Any, y: Any) -> str:
    """Write the markdown of :func:`write_report`."""
    verdict = "exact" if estimator.exact_ else "approximate"
    r2 = _r2(np.asarray(y, dtype=np.float64), estimator.predict(X))
    lines = [
        "# nalu_sr report",
        "",
        f"Formula: `{estimator.to_string()}`",
        "",
        f"$$\n{estimator.latex()}\n$$",
        "",
        f"- Relative validation error: {estimator.loss_:.3g} ({verdict})",
        f"- R² on the {len(np.asarray(y))} rows given: {r2}",
        f"- Training runs: {estimator.n_iter_}",
        "",
        "## Candidates",
        "",
        "The chosen formula is marked with `*`; floats are shown to "
        f"{PLOT_PRECISION} significant digits.",
        "",
        *_candidate_table(estimator),
        "",
        "## Plots",
        "",
        "![Complexity against validation error](pareto.png)",
        "",
        "![Predicted against true values](predictions.png)",
        "",
        "![Expression tree of the chosen formula](graph.png)",
        "",
    ]
    return "\n".join(lines)


def _candidate_table(estimator: FittedRegressor) -> list[str]:
    """Write the candidate table as markdown rows."""
    lines = [
        "| # | | complexity | loss | score | exact | architecture | width | formula |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for number, row in enumerate(table_rows(estimator.equations_)):
        formula = sympy_to_string(row["sympy_format"], PLOT_PRECISION)
        lines.append(
            f"| {number} | {'*' if row['chosen'] else ''} | {row['complexity']} "
            f"| {row['loss']:.3g} | {row['score']:.3g} | {row['exact']} "
            f"| {row['architecture']} | {row['width']} "
            f"| `{formula.replace('|', chr(92) + '|')}` |"
        )
    return lines

import struct
import sys

import numpy as np
import pytest
import sympy

from nalu_sr import NALURegressor
from nalu_sr._equations import LOSS_FLOOR
from nalu_sr.plotting import (
    expression_graph,
    pareto_front,
    plot_graph,
    plot_pareto,
    plot_predictions,
    write_report,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, size=(300, 3))
    y = X[:, 0] / (X[:, 1] + X[:, 2])
    return NALURegressor(random_state=0).fit(X, y), X, y


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _legend(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_pareto_has_one_point_per_candidate_and_marks_the_chosen(fitted, plt):
    model, _, _ = fitted
    ax = plot_pareto(model, ax=plt.subplots()[1])
    table = model.equations_
    expected = np.column_stack(
        [table["complexity"], np.maximum(table["loss"], LOSS_FLOOR)]
    )
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), expected)
    np.testing.assert_array_equal(
        ax.collections[1].get_offsets(), expected[[model.best_index_]]
    )
    assert _legend(ax) == [
        "candidates",
        "chosen: x0/(x1 + x2)",
        "complexity-loss front",
        f"precision floor = {model.precision_floor_:.3g}",
    ]
    assert ax.get_yscale() == "log"
    front = pareto_front(list(table["complexity"]), list(expected[:, 1]))
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), expected[front, 0])


def test_pareto_front_is_hand_checkable():
    assert pareto_front([5, 3, 3, 7, 9], [0.1, 0.5, 0.2, 0.2, 1e-3]) == [2, 0, 4]
    assert pareto_front([1, 2, 3], [1.0, 1.0, 2.0]) == [0]
    assert pareto_front([4], [0.0]) == [0]


def test_predictions_show_training_and_extrapolation_points(fitted, plt):
    model, X, y = fitted
    X_far = np.random.default_rng(1).uniform(5, 25, size=(40, 3))
    y_far = X_far[:, 0] / (X_far[:, 1] + X_far[:, 2])
    ax = plot_predictions(model, X, y, X_far, y_far, ax=plt.subplots()[1])
    near, far = ax.collections[0].get_offsets(), ax.collections[1].get_offsets()
    assert near.shape == (300, 2) and far.shape == (40, 2)
    np.testing.assert_array_equal(near[:, 0], y)
    np.testing.assert_allclose(near[:, 1], model.predict(X))
    np.testing.assert_array_equal(far[:, 0], y_far)
    assert _legend(ax) == ["training range: R² = 1", "extrapolation: R² = 1"]
    assert ax.collections[0].get_facecolor().tolist() != (
        ax.collections[1].get_facecolor().tolist()
    )
    shaded = ax.patches[0].get_extents()
    assert shaded.width > 0  # the span over the training targets
    assert ax.get_title() == "x0/(x1 + x2)"


def test_predictions_without_extrapolation_and_half_given(fitted, plt):
    model, X, y = fitted
    ax = plot_predictions(model, X[:10], y[:10], ax=plt.subplots()[1])
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == 10
    with pytest.raises(ValueError, match="give both X_extrapolation and y_extrapol"):
        plot_predictions(model, X, y, X_extrapolation=X)


def test_expression_graph_of_a_known_formula():
    x = sympy.Symbol("x")
    graph = expression_graph(sympy.sin(sympy.Float(2.5) * x) + x**2)
    labels = [graph.nodes[n]["label"] for n in graph]
    kinds = [graph.nodes[n]["kind"] for n in graph]
    assert labels == ["+", "^", "x", "2", "sin", "×", "2.5", "x"]
    assert kinds == [
        "operation", "operation", "symbol", "number",
        "function", "operation", "number", "symbol",
    ]  # fmt: skip
    assert sorted(graph.edges(data="position")) == [
        (1, 0, 0), (2, 1, 0), (3, 1, 1), (4, 0, 1),
        (5, 4, 0), (6, 5, 0), (7, 5, 1),
    ]  # fmt: skip


def test_graph_draws_every_node_with_its_label(fitted, plt):
    model, _, _ = fitted
    ax = plot_graph(model, ax=plt.subplots()[1])
    assert len(ax.collections[0].get_offsets()) == 7  # complexity of x0/(x1 + x2)
    assert sorted(t.get_text() for t in ax.texts) == sorted(
        ["×", "x0", "^", "+", "x1", "x2", "-1"]
    )
    assert ax.get_title() == "x0/(x1 + x2)"
    last = len(model.equations_) - 1
    ax = plot_graph(model, last, ax=plt.subplots()[1])
    complexity = model.equations_.loc[last, "complexity"]
    assert len(ax.collections[0].get_offsets()) == len(ax.texts) == complexity


def test_estimator_methods_delegate_and_open_new_figures(fitted, plt):
    model, X, y = fitted
    axes = [model.plot_pareto(), model.plot_predictions(X, y), model.plot_graph()]
    assert len({id(ax.figure) for ax in axes}) == 3
    assert [ax.get_title() for ax in axes] == [
        "Candidates",
        "x0/(x1 + x2)",
        "x0/(x1 + x2)",
    ]


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_write_report_writes_pngs_and_markdown(fitted, plt, tmp_path):
    model, X, y = fitted
    before = plt.get_fignums()
    report = write_report(model, X, y, tmp_path / "new" / "dir")
    assert report == tmp_path / "new" / "dir" / "report.md"
    for name in ("pareto.png", "predictions.png", "graph.png"):
        width, height = _png_size(report.parent / name)
        assert width > 100 and height > 100
        assert f"]({name})" in report.read_text()
    assert plt.get_fignums() == before  # no figure left open in pyplot
    text = report.read_text()
    assert "Formula: `x0/(x1 + x2)`" in text
    assert "$$\n\\frac{x_{0}}{x_{1} + x_{2}}\n$$" in text
    assert "(exact)" in text and "R² on the 300 rows given: 1" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == len(model.equations_) + 1  # header + one per candidate
    assert f"| {model.best_index_} | * | 7 |" in text


def test_loaded_model_plots_too(fitted, plt, tmp_path):
    model, X, y = fitted
    model.save(tmp_path / "model.json")
    loaded = NALURegressor.load(tmp_path / "model.json")
    assert _legend(plot_pareto(loaded))[1] == "chosen: x0/(x1 + x2)"
    assert write_report(loaded, X, y, tmp_path / "report").exists()


def test_missing_matplotlib_names_the_extra(fitted, monkeypatch, tmp_path):
    model, X, y = fitted
    for name in ("matplotlib", "matplotlib.pyplot", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"pip install nalu_sr\[plot\]"):
        model.plot_pareto()
    with pytest.raises(ImportError, match=r"pip install nalu_sr\[plot\]"):
        write_report(model, X, y, tmp_path)
    assert not any(tmp_path.iterdir())

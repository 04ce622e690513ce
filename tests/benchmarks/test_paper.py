"""Tests of the NALU-paper benchmark suites: task data, scoring, resumable runs."""

import csv
import math
import re

import numpy as np
import pytest
import torch

from benchmarks.__main__ import main
from benchmarks.paper import recurrent, static_arithmetic
from benchmarks.paper._report import Cells, findings
from benchmarks.paper._tasks import (
    OPERATIONS,
    RANDOM_INIT_STREAM,
    SubsetLayout,
    evaluate_mse,
    generator_for,
    make_target,
    normalised_score,
    static_threshold,
    task_layout,
    uniform,
)


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------- task data


def test_layout_sizes_follow_madsen_floors():
    # 100 inputs, ratio 0.25 -> subsets of 25; overlap 0.5 of 25 -> 12.
    for seed in range(20):
        layout = SubsetLayout.draw(100, 0.25, 0.5, np.random.default_rng(seed))
        assert layout.a_end - layout.a_start == 25
        assert layout.b_end - layout.b_start == 25
        assert layout.a_end - layout.b_start == 12
        assert 0 <= layout.a_start and layout.b_end <= 100


def test_subset_sums_by_hand_on_a_small_input():
    # 12 inputs, ratio 0.25 -> subsets of 3, overlap floor(1.5) = 1.
    layout = SubsetLayout.draw(12, 0.25, 0.5, np.random.default_rng(3))
    assert (layout.a_end - layout.a_start, layout.a_end - layout.b_start) == (3, 1)
    # Powers of two make every subset sum unique, so the check is exact.
    fixed = SubsetLayout(12, 2, 5, 4, 7)
    x = 2.0 ** torch.arange(12, dtype=torch.float64).reshape(1, 12)
    a, b = fixed.sums(x)
    assert a.item() == 4 + 8 + 16  # entries 2, 3, 4
    assert b.item() == 16 + 32 + 64  # entries 4, 5, 6: entry 4 is shared
    assert make_target("mul", fixed, x).item() == 28 * 112
    assert make_target("root", fixed, x).item() == pytest.approx(math.sqrt(28))


def test_recurrent_sums_accumulate_over_time():
    fixed = SubsetLayout(4, 0, 2, 1, 3)
    x = torch.tensor([[[1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]]])
    a, b = fixed.sums(x)
    assert (a.item(), b.item()) == (33.0, 55.0)


def test_layout_rejects_subsets_that_do_not_fit():
    with pytest.raises(ValueError, match="do not fit"):
        SubsetLayout.draw(4, 0.75, 0.0, np.random.default_rng(0))


# ---------------------------------------------------------------- scoring


@pytest.fixture(scope="module")
def small_static():
    config = static_arithmetic.StaticConfig(test_size=500, random_inits=2)
    layout = task_layout(0, config)
    return config, layout


@pytest.mark.parametrize("op", list(OPERATIONS))
def test_threshold_is_positive_and_below_random_models(small_static, op):
    config, layout = small_static
    tests = static_arithmetic.make_test_sets(op, layout, 0, config)
    threshold = static_threshold(op, layout, tests.x_extrapolation)
    assert threshold > 0
    for model in ("relu6", "nau-nmu", "nac"):
        _, random_mse = static_arithmetic.RUNNER.random_baseline(
            model, op, tests, 0, config
        )
        assert threshold < random_mse / 1000


def test_exact_solution_beats_threshold(small_static):
    # The unperturbed solution has zero error, so it always succeeds.
    _, layout = small_static
    x = uniform((100, 100), 2.0, 6.0, torch.Generator().manual_seed(0))
    assert static_threshold("mul", layout, x, epsilon=0.0) == 0.0


def test_recurrent_threshold_is_positive_and_below_random_models():
    config = recurrent.RecurrentConfig(test_length=30, test_size=200, random_inits=2)
    layout = task_layout(0, config)
    for op in ("add", "sub", "mul"):
        tests = recurrent.make_test_sets(op, layout, 0, config)
        threshold = recurrent.recurrent_threshold(op, layout, tests.x_extrapolation)
        assert threshold > 0
        _, random_mse = recurrent.RUNNER.random_baseline(
            "nau-nmu", op, tests, 0, config
        )
        assert threshold < random_mse / 1000


@pytest.mark.parametrize("op", ["add", "mul", "squared"])
def test_true_static_weights_beat_the_threshold(small_static, op):
    config, layout = small_static
    tests = static_arithmetic.make_test_sets(op, layout, 0, config)
    network = static_arithmetic.build_network(
        "nau-nmu", op, config, torch.Generator().manual_seed(0)
    )
    selection = torch.from_numpy(layout.selection_weights())
    if op == "squared":  # a² = a · a: both hidden units select a
        selection[1] = selection[0]
    with torch.no_grad():
        network[0].weight.copy_(selection)
        network[1].weight.copy_(torch.ones(1, 2))
    mse = evaluate_mse(network, tests.x_extrapolation, tests.y_extrapolation)
    threshold = static_threshold(op, layout, tests.x_extrapolation)
    assert mse < threshold


@pytest.mark.parametrize("op", ["add", "mul"])
def test_true_recurrent_weights_beat_the_threshold(op):
    config = recurrent.RecurrentConfig(test_length=50, test_size=100)
    layout = task_layout(1, config)
    tests = recurrent.make_test_sets(op, layout, 1, config)
    network = recurrent.build_network(
        "nau-nmu", op, config, torch.Generator().manual_seed(0)
    )
    # The cell sees [x_t, h_{t-1}]: subset selection, then the identity.
    cell = torch.cat(
        [torch.from_numpy(layout.selection_weights()).float(), torch.eye(2)], dim=1
    )
    with torch.no_grad():
        network[0].unit.weight.copy_(cell)
        network[1].weight.copy_(torch.ones(1, 2))
    mse = evaluate_mse(network, tests.x_extrapolation, tests.y_extrapolation)
    assert mse < recurrent.recurrent_threshold(op, layout, tests.x_extrapolation)


def test_normalised_score_is_100_for_the_baseline_itself(small_static):
    config, layout = small_static
    one_init = static_arithmetic.StaticConfig(test_size=500, random_inits=1)
    tests = static_arithmetic.make_test_sets("add", layout, 0, one_init)
    baseline = static_arithmetic.RUNNER.random_baseline(
        "nalu", "add", tests, 0, one_init
    )
    # The baseline's own network, rebuilt from the same random stream.
    network = static_arithmetic.build_network(
        "nalu", "add", config, generator_for(0, RANDOM_INIT_STREAM)
    )
    mse = evaluate_mse(network, tests.x_extrapolation, tests.y_extrapolation)
    assert normalised_score(mse, baseline[1]) == pytest.approx(100.0)
    assert normalised_score(0.0, baseline[1]) == 0.0


def test_findings_separate_successes_from_flattering_scores():
    def row(op, model, success, mse):
        return {
            "op": op, "model": model, "success": str(success),
            "extrapolation_mse": str(mse), "baseline_extrapolation_mse": "1000",
        }  # fmt: skip

    rows = [row("add", "nac", True, 0.0), row("mul", "nac", False, 1.0)]
    text = findings(Cells(rows, ["add", "mul"], ["nac"], {"nac": "NAC"}))
    assert "1 of 2 runs met the success criterion: NAC on a + b (1)" in text
    # Score 100 * 1 / 1000 = 0.1 < 1 without a success: flagged.
    assert "no successful seed: NAC on a × b." in text


# ---------------------------------------------------------------- end to end

#: Tiny runs of each suite (without ``--output``).
SUITE_ARGV = {
    "static": [
        "run", "static", "--seeds", "1", "--iterations", "5", "--ops", "add,mul",
        "--models", "linear,nau-nmu", "--test-size", "100", "--random-inits", "1",
    ],
    "recurrent": [
        "run", "recurrent", "--seeds", "1", "--iterations", "3", "--ops", "add",
        "--models", "nac,nau-nmu", "--test-length", "15", "--test-size", "20",
        "--random-inits", "1",
    ],
    "mlp-extrapolation": [
        "run", "mlp-extrapolation", "--seeds", "1", "--iterations", "20",
        "--models", "mlp-relu,nac-stack",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def suite_runs(tmp_path_factory):
    """Run every suite once; suite name -> (output folder, full argv)."""
    runs = {}
    for suite, argv in SUITE_ARGV.items():
        output = tmp_path_factory.mktemp(suite)
        runs[suite] = (output, [*argv, "--output", str(output)])
        assert main(runs[suite][1]) == 0
    return runs


def _markdown_tables(report):
    """The report's tables, each a list of rows (header first) of cell texts."""
    tables, current = [], []
    for line in [*report.splitlines(), ""]:
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            current.append([cell.strip() for cell in cells])
        elif current:
            tables.append(current)
            current = []
    return tables


def test_markdown_tables_splits_cells_and_tables():
    report = "text\n| a | b |\n| --- | --- |\n| 1 | x \\| y |\n\n| c |\n| --- |\n"
    assert _markdown_tables(report) == [
        [["a", "b"], ["---", "---"], ["1", "x \\| y"]],
        [["c"], ["---"]],
    ]


@pytest.mark.parametrize("suite", list(SUITE_ARGV))
def test_report_tables_have_a_cell_per_header(suite_runs, suite):
    output, _ = suite_runs[suite]
    tables = _markdown_tables((output / f"{suite}.md").read_text())
    assert tables
    for header, separator, *rows in tables:
        assert separator == ["---"] * len(header), header
        for row in rows:
            assert len(row) == len(header), (header, row)


def test_static_suite_writes_results_and_resumes(suite_runs):
    output, argv = suite_runs["static"]
    rows = _rows(output / "static.csv")
    assert {(r["op"], r["model"]) for r in rows} == {
        ("add", "linear"), ("add", "nau-nmu"), ("mul", "linear"), ("mul", "nau-nmu")
    }  # fmt: skip
    report = (output / "static.md").read_text()
    assert report.startswith("# NALU paper Table 1, static task")
    assert "Success rate" in report and "UNVERIFIED" in report
    assert "| Max s/run |" in report
    assert main(argv) == 0
    assert len(_rows(output / "static.csv")) == 4


def test_recurrent_suite_writes_results_and_resumes(suite_runs):
    output, argv = suite_runs["recurrent"]
    assert len(_rows(output / "recurrent.csv")) == 2
    assert (output / "recurrent.md").read_text().startswith("# NALU paper Table 1")
    assert main(argv) == 0
    assert len(_rows(output / "recurrent.csv")) == 2


def test_mlp_suite_writes_results_and_resumes(suite_runs):
    output, argv = suite_runs["mlp-extrapolation"]
    rows = _rows(output / "mlp-extrapolation.csv")
    assert len(rows) == 2
    assert all(len(r["abs_errors"].split()) == 401 for r in rows)
    assert (output / "mlp-extrapolation.md").read_text().startswith("# NALU paper")
    assert main(argv) == 0
    assert len(_rows(output / "mlp-extrapolation.csv")) == 2


def test_mlp_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    from benchmarks.paper import mlp_extrapolation as mlp

    config = mlp.IdentityConfig()
    curve = np.abs(mlp.test_grid(config)) / 10
    path = mlp.save_plot({"mlp-relu": curve}, config, tmp_path / "plot.png")
    assert path is not None
    assert path.read_bytes().startswith(b"\x89PNG")

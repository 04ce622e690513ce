"""The selection benchmark: both rules on one fit, and its summary."""

import numpy as np
import pytest
import sympy

from benchmarks import selection
from benchmarks.sr.problems import arithmetic_problems
from nalu_sr import NALURegressor


@pytest.mark.filterwarnings("ignore::nalu_sr.exceptions.PoorFitWarning")
def test_the_score_rule_is_the_estimator_s_own_choice():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.1, 1.0, size=(300, 1))
    y = np.exp(X[:, 0]) + 0.3 * np.sin(7 * X[:, 0])  # no law in the grammar's reach
    model = NALURegressor(max_time=2, random_state=0).fit(X, y)
    choices = selection.rule_choices(model, len(y))
    assert choices["score"] == model.best_index_
    assert set(choices) == set(selection.RULES)


def test_a_fit_gives_one_row_per_rule():
    problem = arithmetic_problems()[2]
    rows = selection.fit_problem((problem, 0.0, 0, 30.0, 200))  # stops when exact
    assert [row["rule"] for row in rows] == list(selection.RULES)
    assert all(row["exact"] and row["solved"] and row["same"] for row in rows)


def _row(problem, rule, complexity, r2, exact=False, solved=False):
    return {"problem": problem, "rule": rule, "complexity": str(complexity),
            "r2_test": str(r2), "exact": str(exact), "solved": str(solved),
            "model": "x0"}  # fmt: skip


def test_the_summary_compares_the_fits_with_no_exact_candidate():
    rows = [
        _row("a", "near-best", 30, 0.99999),
        _row("a", "score", 10, 0.9999),
        _row("b", "near-best", 20, 0.9),
        _row("b", "score", 20, 0.9),
        _row("c", "near-best", 5, 1.0, exact=True, solved=True),
        _row("c", "score", 5, 1.0, exact=True, solved=True),
    ]
    table = selection.summary(rows)
    assert "| near-best | 2 | 25 | 0.95 |" in table
    assert "| score | 2 | 15 | 0.95 |" in table
    assert selection.largest_drops(rows).startswith("- a: R^2 0.999990 -> 0.999900")


def test_symbolic_constants_and_whole_floats_are_spotted():
    x = sympy.Symbol("x")
    assert selection.symbolic_constants(2 * sympy.pi * x)
    assert selection.symbolic_constants(sympy.exp(1) * x)
    assert selection.symbolic_constants(sympy.Rational(841, 59) * x)
    assert not selection.symbolic_constants(sympy.Rational(3, 2) * x + 7 + 0.25 * x**2)
    assert selection.whole_floats(1.0 * x + 0.5)
    assert not selection.whole_floats(x + 0.5)


def test_the_suite_runs_from_the_command_line(tmp_path, capsys):
    from benchmarks.__main__ import main

    name = arithmetic_problems()[2].name
    argv = ["run", "selection", "--problem-suite", "arithmetic", "--problems", name,
            "--budget", "30", "--rows", "200", "--output", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 problems; 1 fits had an exact candidate" in out
    assert (tmp_path / "selection-arithmetic-noise0.csv").exists()

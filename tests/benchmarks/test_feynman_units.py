"""benchmarks/sr/feynman_units.csv: the SI units of every Feynman variable."""

import pytest

from benchmarks._common import shared_benchmarks_dir
from benchmarks.sr.problems import feynman_problems, feynman_units
from benchmarks.sr.tools import TOOLS
from nalu_sr.dimensions import formula_dimension, parse_units

needs_data = pytest.mark.skipif(
    not (shared_benchmarks_dir() / "feynman.csv").exists(),
    reason="shared benchmark data not found",
)


def test_every_unit_string_parses():
    for problem, entries in feynman_units().items():
        for (role, variable), units in entries.items():
            assert role in {"input", "target"}, problem
            parse_units(units, f"{problem} {variable}")


@needs_data
def test_every_feynman_formula_has_its_targets_dimension():
    problems = feynman_problems(srbench_only=False)
    assert len(problems) == 120
    for problem in problems:
        assert problem.units is not None, problem.name
        inputs, target = problem.units
        dims = {s: parse_units(u) for s, u in zip(problem.symbols, inputs, strict=True)}
        assert formula_dimension(problem.truth, dims) == parse_units(target), (
            problem.name
        )


def test_the_units_tool_is_run_only_when_named():
    assert TOOLS["nalu_sr_units"].uses_units
    assert not TOOLS["nalu_sr_units"].default
    assert TOOLS["nalu_sr"].default

"""nalu_sr.selection: candidates in, the chosen formula and the table out."""

import pytest
import sympy

import nalu_sr
import nalu_sr.search
from nalu_sr._version import __version__
from nalu_sr.exceptions import ModelFileError, PoorFitWarning
from nalu_sr.export import serialize
from nalu_sr.extraction import candidate as candidate_module
from nalu_sr.extraction.candidate import Candidate
from nalu_sr.search import SearchOutcome
from nalu_sr.selection import (
    POOR_FIT_LOSS,
    SELECTION_SLACK,
    choose,
    poor_fit_message,
)
from nalu_sr.symbols import symbols_from_names

x = sympy.Symbol("x", real=True)


def _candidate(complexity, loss, seed):
    return Candidate(
        expression=x * seed,
        complexity=complexity,
        train_loss=loss,
        validation_loss=loss,
        architecture="power",
        width=1,
        seed=seed,
    )


def _outcome(candidates):
    return SearchOutcome(
        candidates=candidates,
        modules=[None] * len(candidates),
        histories=[[float(c.seed)] for c in candidates],
        n_trained=len(candidates),
    )


def test_choose_numbers_by_complexity_then_loss_and_keeps_provenance():
    found = [_candidate(9, 1e-4, 1), _candidate(5, 3e-4, 2), _candidate(5, 1.5e-4, 3)]
    formulas = choose(_outcome(found), [x], tol=1e-10, selection_factor=2.0)
    assert list(formulas.table["seed"]) == [3, 2, 1]
    assert formulas.best_index == 0
    assert formulas.expression == 3 * x
    assert formulas.loss == 1.5e-4
    assert formulas.exact is False
    assert formulas.history == [3.0]  # the chosen candidate's own run
    assert formulas.n_iter == 3
    assert list(formulas.table["chosen"]) == [True, False, False]


def test_choose_marks_exact_by_tol():
    formulas = choose(_outcome([_candidate(3, 1e-12, 1)]), [x], 1e-10, 2.0)
    assert formulas.exact is True
    assert poor_fit_message(formulas) is None


def test_poor_fit_message_above_the_threshold_only():
    at = choose(_outcome([_candidate(3, POOR_FIT_LOSS, 1)]), [x], 1e-10, 2.0)
    above = choose(_outcome([_candidate(3, 0.25, 2)]), [x], 1e-10, 2.0)
    assert poor_fit_message(at) is None
    assert poor_fit_message(above) == (
        "no formula fits the data well: the best has a relative validation "
        "error of 0.25 (R^2 = 0.75): 2*x"
    )
    assert issubclass(PoorFitWarning, UserWarning)


def test_one_threshold_for_poor_fits_and_loose_constant_matching():
    assert POOR_FIT_LOSS == 1e-2
    assert candidate_module.LOOSE_MATCH_MAX_LOSS is POOR_FIT_LOSS
    assert SELECTION_SLACK == 0.01


def test_moved_names_keep_their_old_import_paths():
    assert serialize.ModelFileError is ModelFileError is nalu_sr.ModelFileError
    assert serialize.symbols_from_names is symbols_from_names
    assert nalu_sr.__version__ == __version__
    assert not hasattr(nalu_sr.search, "select_candidate")
    assert not hasattr(nalu_sr.search, "SELECTION_SLACK")


def test_symbols_from_names_refuses_non_identifiers():
    assert list(symbols_from_names(["a", "b_1"])) == ["a", "b_1"]
    with pytest.raises(
        ModelFileError,
        match=r"^the model file's 'symbols' must be a list of identifiers$",
    ):
        symbols_from_names(["a b"])

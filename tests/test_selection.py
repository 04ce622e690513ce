"""nalu_sr.selection: candidates in, the chosen formula and the table out."""

import dataclasses

import numpy as np
import pytest
import sympy

import nalu_sr
import nalu_sr.search
from nalu_sr._version import __version__
from nalu_sr.diagnostics import poor_fit_message
from nalu_sr.exactness import LawCheck
from nalu_sr.exceptions import ModelFileError, PoorFitWarning
from nalu_sr.export import serialize
from nalu_sr.extraction import candidate as candidate_module
from nalu_sr.extraction.candidate import Candidate
from nalu_sr.search import SearchOutcome
from nalu_sr.selection import (
    POOR_FIT_LOSS,
    SELECTION_SLACK,
    approximation_score,
    choose,
    judge_candidates,
    select_candidate,
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


def test_choose_keeps_the_judgement_of_judge_candidates():
    law = dataclasses.replace(_candidate(3, 1e-12, 1), exact=True)
    formulas = choose(_outcome([law]), [x], 1e-10, 2.0)
    assert formulas.exact is True
    assert poor_fit_message(formulas) is None
    unjudged = choose(_outcome([_candidate(3, 1e-12, 1)]), [x], 1e-10, 2.0)
    assert unjudged.exact is False


def test_a_law_is_chosen_over_a_simpler_approximation_below_the_floor():
    approximation = _candidate(3, 1e-20, 1)
    law = dataclasses.replace(_candidate(9, 1e-30, 2), exact=True)
    formulas = choose(_outcome([approximation, law]), [x], 1e-16, 2.0)
    assert formulas.expression == 2 * x and formulas.exact


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


def _judged(expression, truth, low, high, n_held_out=200):
    rng = np.random.default_rng(0)
    X = rng.uniform(low, high, size=(400, 1))
    y = truth(X[:, 0])
    check = LawCheck.from_data(X, y, None, np.float64)
    function = sympy.lambdify([x], expression, "numpy")
    loss = float(np.mean((function(X[:, 0]) - y) ** 2) / np.var(y))
    found = Candidate(expression, 5, loss, loss, "function/identity", 1, None)
    return judge_candidates([found], check, [x], n_held_out)[0]


def test_a_law_with_fitted_floats_is_exact_and_loses_its_whole_floats():
    judged = _judged(1.0 * x**3 + 0.5 * sympy.exp(x), lambda v: v**3 + np.exp(v) / 2,
                     -1, 1)  # fmt: skip
    assert judged.exact
    assert judged.expression == x**3 + 0.5 * sympy.exp(x)
    assert judged.extrapolation_loss < 1e-26


def test_a_law_float_a_few_ulps_from_a_whole_number_becomes_it():
    judged = _judged(0.999999999999994 * x + x**2, lambda v: v + v**2, 1, 5)
    assert judged.exact
    assert judged.expression == x + x**2


def test_a_law_constant_near_but_not_at_a_whole_number_is_kept():
    # 1 + 1e-10 is within the rounding tolerance, but rounding it to 1 moves
    # the fit far above the precision floor.
    coefficient = 1 + 1e-10
    judged = _judged(coefficient * x + x**2, lambda v: coefficient * v + v**2, 1, 5)
    assert judged.exact
    assert judged.expression == sympy.Float(coefficient) * x + x**2


def test_a_series_above_the_precision_floor_is_not_exact():
    # cosh on [-1, 1] by its Taylor series to x**8: a relative error of about
    # 1e-16, below the old fixed tol and far above the precision floor.
    series = sum(x ** (2 * k) / sympy.factorial(2 * k) for k in range(5))
    judged = _judged(series.evalf(), np.cosh, -1, 1)
    assert not judged.exact
    assert judged.extrapolation_loss is None  # above the floor: never checked


def test_an_approximation_shows_decimals_not_pi_or_large_rationals():
    expression = sympy.Rational(841, 59) * x / sympy.pi**2 + sympy.Rational(3, 2)
    judged = _judged(expression, lambda v: np.sin(v) + 1.5, 0, 1)
    assert not judged.exact
    assert not judged.expression.has(sympy.pi)
    assert judged.expression.atoms(sympy.Rational) <= {sympy.Rational(3, 2)}
    rational = judged.expression.atoms(sympy.Rational)
    assert all(abs(r.p) <= 100 and r.q <= 100 for r in rational)


def test_too_few_held_out_rows_leave_a_law_unconfirmed():
    judged = _judged(x**2, np.square, 1, 2, n_held_out=2)
    assert judged.extrapolation_loss is not None and not judged.exact


def _formula(complexity, loss, n_floats):
    """A candidate of that complexity and loss with ``n_floats`` fitted floats."""
    floats = [sympy.Float(0.5 + k / 7) for k in range(n_floats)]
    expression = x * complexity + sum(f * x ** (k + 2) for k, f in enumerate(floats))
    return Candidate(expression, complexity, loss, loss, "power", 1, complexity)


def test_a_much_shorter_approximation_almost_as_accurate_wins():
    # Score = loss + 3e-5 * (nodes + floats): 1e-8 + 102e-5 against 1e-5 + 30e-5.
    table = [_formula(30, 1e-8, 4), _formula(8, 1e-5, 2), _formula(4, 5e-3, 1)]
    assert select_candidate(table, 1e-30, 2.0, n_held_out=200) == 1
    assert approximation_score(table[1], 2.0) == pytest.approx(1e-5 + 30e-5)


def test_a_shorter_approximation_that_loses_much_accuracy_does_not_win():
    table = [_formula(30, 1e-8, 4), _formula(8, 1e-3, 2)]
    assert select_candidate(table, 1e-30, 2.0, n_held_out=200) == 0


def test_selection_factor_one_takes_the_most_accurate():
    table = [_formula(30, 1e-8, 4), _formula(8, 1e-5, 2)]
    assert select_candidate(table, 1e-30, 1.0, n_held_out=200) == 0


def test_a_snapped_law_under_noise_is_not_traded_for_a_shorter_series():
    # The score alone would take the series (1.05e-4 + 2.1e-4 < 1e-4 + 3.6e-4),
    # but 1500 held-out rows tell 5% apart and the law has no fitted float.
    law = Candidate(x**2 / (4 * sympy.pi), 12, 1e-4, 1e-4, "power", 1, 0)
    series = _formula(6, 1.05e-4, 1)
    assert approximation_score(series, 2.0) < approximation_score(law, 2.0)
    assert select_candidate([law, series], 1e-30, 2.0, n_held_out=1500) == 0


def test_the_score_never_chooses_a_formula_longer_than_the_near_best():
    # Near the best (within 2x), the 5-node formula is the simplest; the
    # 20-node one scores better (1e-3 + 7.2e-4 against 1.9e-3 + 2.1e-4) but is longer.
    table = [_formula(20, 1e-3, 4), _formula(5, 1.9e-3, 2)]
    assert select_candidate(table, 1e-30, 2.0) == 1

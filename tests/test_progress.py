import io
import math
import sys

import numpy as np
import pytest
import sympy

import nalu_sr._progress as progress_module
from nalu_sr import NALURegressor
from nalu_sr._progress import SearchProgress, format_run, format_status
from nalu_sr.cli import main
from nalu_sr.extraction.candidate import Candidate
from nalu_sr.search import PlanEntry, RunEvent


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


ENTRY = PlanEntry("power", 2, 0, 1234)
CANDIDATE = Candidate(sympy.Symbol("x0") * 2, 3, 0.25, 0.5, "power", 2, 1234)


def _event(n_done, n_planned=4, best_loss=0.5, diverged=False, candidate=CANDIDATE):
    return RunEvent(ENTRY, candidate, diverged, n_done, n_planned, best_loss)


def test_status_line_is_hand_checkable():
    assert format_status(0, 4, math.inf, 0.0) == (
        "[----------------] 0/4 runs, best validation loss inf, 0.0 s"
    )
    assert format_status(3, 4, 1.23456e-5, 61.06) == (
        "[############----] 3/4 runs, best validation loss 1.23e-05, 61.1 s"
    )
    assert format_status(4, 4, 0.0, 2.0).startswith("[################] 4/4 runs")
    assert format_status(0, 0, 0.0, 0.0).startswith("[################] 0/0 runs")


def test_run_lines_name_the_run_and_its_outcome():
    assert format_run(_event(1)) == (
        "power width=2 seed=1234: validation loss 0.5, 2*x0"
    )
    assert format_run(_event(1, diverged=True, candidate=None)) == (
        "power width=2 seed=1234: diverged (loss not finite), replaced by a new seed"
    )
    assert format_run(_event(1, candidate=None)) == (
        "power width=2 seed=1234: no usable formula"
    )


def test_draws_on_a_terminal_after_the_delay():
    stream, clock = FakeTerminal(), FakeClock()
    progress = SearchProgress(1, stream=stream, clock=clock)
    clock.now += 0.5
    progress(_event(1))
    assert stream.getvalue() == ""  # a fit under a second shows nothing
    clock.now += 1.0
    progress(_event(2, best_loss=0.125))
    first = "\r[########--------] 2/4 runs, best validation loss 0.125, 1.5 s"
    assert stream.getvalue() == first
    clock.now += 1.0
    progress(_event(4, best_loss=1e-12))
    progress.close()
    final = "\r[################] 4/4 runs, best validation loss 1e-12, 2.5 s"
    assert stream.getvalue() == first + final + "\n"  # the last state stays
    progress.close()  # closing twice adds nothing
    assert stream.getvalue().count("\n") == 1


def test_a_shorter_line_blanks_the_rest_of_a_longer_one():
    stream, clock = FakeTerminal(), FakeClock()
    progress = SearchProgress(1, stream=stream, clock=clock, delay=0.0)
    progress(_event(1, n_planned=10, best_loss=1.23456e-05))
    progress(_event(2, n_planned=10, best_loss=0.5))
    long, short = stream.getvalue().split("\r")[1:]
    assert len(short) == len(long)
    assert short == "[###-------------] 2/10 runs, best validation loss 0.5, 0.0 s     "


def test_fast_fit_draws_nothing_even_on_close():
    stream = FakeTerminal()
    with SearchProgress(1, stream=stream, clock=FakeClock()) as progress:
        progress(_event(1))
    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    ("verbose", "stream"),
    [(1, io.StringIO()), (0, FakeTerminal())],
    ids=["not-a-terminal", "verbose-0"],
)
def test_silent_unless_verbose_and_a_terminal(verbose, stream):
    clock = FakeClock()
    out = io.StringIO()
    with SearchProgress(verbose, stream=stream, out=out, clock=clock) as progress:
        clock.now += 5
        progress(_event(1))
    assert stream.getvalue() == "" and out.getvalue() == ""


def test_verbose_2_prints_run_lines_above_the_progress_line():
    stream, out, clock = FakeTerminal(), io.StringIO(), FakeClock()
    progress = SearchProgress(2, stream=stream, out=out, clock=clock, delay=0.0)
    progress(_event(1))
    progress(_event(2))
    first = "[####------------] 1/4 runs, best validation loss 0.5, 0.0 s"
    second = "[########--------] 2/4 runs, best validation loss 0.5, 0.0 s"
    blank = "\r" + " " * len(first) + "\r"
    assert stream.getvalue() == "\r" + first + blank + "\r" + second
    assert out.getvalue().splitlines() == [format_run(_event(1))] * 2


def test_isatty_failure_counts_as_not_a_terminal():
    class Closed(io.StringIO):
        def isatty(self):
            raise ValueError("I/O operation on closed file")

    assert not SearchProgress(1, stream=Closed()).drawing


def _data():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, size=(200, 2))
    return X, X[:, 0] / X[:, 1] + X[:, 0]  # not a polynomial: bodies train


FAST = {"max_iter": 30, "n_restarts": 1, "architectures": ("power",)}


@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
@pytest.mark.parametrize("verbose", [0, 1])
def test_fit_draws_the_line_on_a_terminal_only_when_verbose(monkeypatch, verbose):
    monkeypatch.setattr(progress_module, "DRAW_DELAY", 0.0)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    model = NALURegressor(**FAST, random_state=0, verbose=verbose).fit(*_data())
    drawn = terminal.getvalue()
    if verbose == 0:
        assert drawn == ""
        return
    updates = drawn.split("\r")[1:]
    assert len(updates) == model.n_iter_  # one per run
    # Early stopping ends the search before the planned runs are done.
    assert f"] {model.n_iter_}/" in updates[-1]
    assert drawn.endswith("\n") and updates[-1].rstrip().endswith(" s")


def test_cli_fit_shows_the_line_on_a_terminal(tmp_path, monkeypatch, capsys):
    X, y = _data()
    data = tmp_path / "data.csv"
    rows = [f"{a},{b},{t}\n" for (a, b), t in zip(X, y, strict=True)]
    data.write_text("a,b,y\n" + "".join(rows))
    argv = ["fit", str(data), "--target", "y", "--output", str(tmp_path / "m.json")]
    monkeypatch.setattr(progress_module, "DRAW_DELAY", 0.0)
    assert main(argv) == 0
    assert capsys.readouterr().err == ""  # captured stderr is not a terminal
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(argv) == 0
    assert "runs, best validation loss" in terminal.getvalue()
    assert "runs, best validation loss" not in capsys.readouterr().out

"""Running the plan on workers: the formula does not depend on n_jobs or backend."""

import warnings

import joblib
import numpy as np
import pytest
import sympy
import torch

import nalu_sr.search_jobs as search_jobs
from nalu_sr import NALURegressor
from nalu_sr._parallel import Workers, WorkersLostError
from nalu_sr.function_rounds import FUNCTION_ROUNDS
from nalu_sr.search import PlanEntry

x0, x1, x2 = sympy.symbols("x0:3", real=True)

# Small searches whose laws are not found by the first run, so that several
# waves run: x1*sin(x0) + x2 only by the function search after the first
# restarts (a barrier), x0/(x1 + x2) by the third run; the third runs every
# entry, wider "power" bodies starting from the narrower ones.
SEARCHES = {
    "functions": (
        lambda X: np.sin(X[:, 0]) * X[:, 1] + X[:, 2],
        x1 * sympy.sin(x0) + x2,
        {},
    ),
    "ratio": (lambda X: X[:, 0] / (X[:, 1] + X[:, 2]), x0 / (x1 + x2), {}),
    "no early stopping": (
        lambda X: X[:, 0] * X[:, 1] ** 2,
        x0 * x1**2,
        {
            "early_stopping": False,
            "architectures": ("power", "sum-power"),
            "hidden_widths": (1, 2),
        },
    ),
}


def _data(law):
    X = np.random.default_rng(0).uniform(1, 3, size=(200, 3))
    return X, law(X)


def _fit(law, n_jobs, **params):
    X, y = _data(law)
    settings = {"max_iter": 100, "n_restarts": 2, "random_state": 0} | params
    return NALURegressor(n_jobs=n_jobs, **settings).fit(X, y)


def _table(model):
    return [
        (row["equation"], row["loss"]) for row in model.equations_.to_dict("records")
    ]


@pytest.mark.parametrize("name", list(SEARCHES))
def test_n_jobs_1_and_2_give_the_same_candidates(name):
    law, truth, params = SEARCHES[name]
    one = _fit(law, 1, **params)
    two = _fit(law, 2, **params)
    assert sympy.simplify(one.expression_ - truth) == 0
    assert one.expression_ == two.expression_
    assert _table(one) == _table(two)
    assert one.n_iter_ == two.n_iter_ >= 3


def test_the_dask_backend_gives_the_same_candidates():
    distributed = pytest.importorskip("distributed")
    law, truth, params = SEARCHES["functions"]
    one = _fit(law, 1, **params)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        on_dask = _fit(law, None, **params)
    assert sympy.simplify(on_dask.expression_ - truth) == 0
    assert _table(on_dask) == _table(one)
    assert torch.get_num_threads() == 1  # the test session's setting is kept


@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
def test_a_dask_cluster_that_goes_away_ends_the_fit_with_the_best_so_far(
    monkeypatch,
):
    distributed = pytest.importorskip("distributed")
    law, _, params = SEARCHES["functions"]
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    # The cluster shuts down when the first run comes back, jobs still queued.
    monkeypatch.setattr(
        "nalu_sr._progress.SearchProgress.__call__",
        lambda self, event: cluster.close(),
    )
    with (
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
        pytest.warns(UserWarning, match="search stopped: lost the search's workers"),
    ):
        model = _fit(law, None, **params)
    assert model.n_iter_ >= 1
    assert len(model.equations_) >= 2  # the linear candidate and the first run's


def _diverging(n_diverging):
    calls = []

    def train(entries, config, X, y, previous, deadline, weights=None):
        results = []
        for entry, start in zip(entries, previous, strict=True):
            calls.append(entry.seed)
            ((body, history, _),) = original(
                [entry], config, X, y, [start], deadline, weights
            )
            results.append((body, history, len(calls) <= n_diverging))
        return results

    original = search_jobs._train_entries
    return train, calls


@pytest.mark.parametrize("n_diverging", [1, search_jobs.MAX_REPLACEMENTS + 1])
def test_a_diverged_run_is_replaced_inside_its_job(monkeypatch, n_diverging):
    train, seeds = _diverging(n_diverging)
    monkeypatch.setattr(search_jobs, "_train_entries", train)
    law, _, _ = SEARCHES["ratio"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _fit(law, 1, architectures=("power",), hidden_widths=(1,))
    n_runs = min(n_diverging + 1, search_jobs.MAX_REPLACEMENTS + 1)
    assert seeds[1] == (seeds[0] * 1_000_003 + 1) % np.iinfo(np.int32).max
    # Every replacement ran in the first job, before the second entry's run.
    assert len(set(seeds[:n_runs])) == n_runs
    assert model.n_iter_ == len(seeds)
    used = {row["seed"] for row in model.equations_.to_dict("records")}
    assert not used & set(seeds[:n_diverging])


class _DyingWorkers(Workers):
    """Workers that deliver the first result of the search, then are lost."""

    delivered = 0

    def map(self, function, calls):
        for result in super().map(function, calls):
            if _DyingWorkers.delivered:
                raise WorkersLostError("lost the search's workers (test)")
            _DyingWorkers.delivered += 1
            yield result


@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
def test_lost_workers_end_the_fit_with_the_best_so_far(monkeypatch):
    monkeypatch.setattr(search_jobs, "Workers", _DyingWorkers)
    law, _, params = SEARCHES["ratio"]
    with pytest.warns(UserWarning) as record:
        model = _fit(law, 1, **params)
    messages = [str(warning.message) for warning in record]
    assert (
        "search stopped: lost the search's workers (test); keeping the best "
        "formula found so far"
    ) in messages
    assert model.n_iter_ == 1
    assert len(model.equations_) >= 1


def test_workers_are_waited_for_at_most_max_time_and_a_grace(monkeypatch):
    timeouts = []

    class RecordingWorkers(Workers):
        def __init__(self, n_jobs, timeout=None):
            timeouts.append(timeout)
            super().__init__(n_jobs, timeout)

    monkeypatch.setattr(search_jobs, "Workers", RecordingWorkers)
    law, _, params = SEARCHES["ratio"]
    _fit(law, 1, max_time=20, **params)
    _fit(law, 1, **params)
    assert timeouts == [20 + search_jobs.WORKER_GRACE_SECONDS, None]


@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
def test_ctrl_c_with_workers_keeps_the_best_so_far(monkeypatch):
    def interrupt(self, event):
        raise KeyboardInterrupt

    monkeypatch.setattr("nalu_sr._progress.SearchProgress.__call__", interrupt)
    law, _, params = SEARCHES["functions"]
    with pytest.warns(UserWarning, match="search interrupted"):
        model = _fit(law, 2, **params)
    assert model.n_iter_ >= 1
    assert len(model.equations_) >= 2  # the linear candidate and the first run's


def test_parents_are_the_earlier_power_entries_one_width_smaller():
    plan = [
        PlanEntry("power", 1, 0, 0),
        PlanEntry("sum-power", 1, 0, 0),
        PlanEntry("power", 2, 0, 0),
        PlanEntry("power", 1, 1, 0),
        PlanEntry("sum-power", 2, 1, 0),
        PlanEntry("power", 2, 1, 0),
    ]
    parents = [search_jobs._parents(plan, i) for i in range(len(plan))]
    assert parents == [[], [], [0], [], [], [0, 3]]
    # Without early stopping, several workers start the longest chains first.
    assert search_jobs._heights(parents) == [2, 1, 1, 2, 1, 1]


def test_verbose_lines_are_the_same_with_workers(capsys):
    law, _, params = SEARCHES["ratio"]
    _fit(law, 1, verbose=2, **params)
    one = capsys.readouterr().out.splitlines()
    _fit(law, 2, verbose=2, **params)
    two = capsys.readouterr().out.splitlines()
    assert len(one) == 3
    assert one == two


def test_weighted_fits_are_the_same_with_workers():
    law, truth, _ = SEARCHES["ratio"]
    X, y = _data(law)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    settings = {"max_iter": 100, "n_restarts": 2, "random_state": 0}
    one = NALURegressor(n_jobs=1, **settings).fit(X, y, sample_weight=weights)
    two = NALURegressor(n_jobs=2, **settings).fit(X, y, sample_weight=weights)
    assert sympy.simplify(one.expression_ - truth) == 0
    assert _table(one) == _table(two)


def _round_order(monkeypatch, n_jobs, round_seconds):
    """Order of kept restarts and function rounds; each round takes the
    given seconds on the search's clock (a fake one: no sleeping)."""
    order = []
    clock = {"offset": 0.0}
    real_time = search_jobs.time

    class Clock:
        @staticmethod
        def perf_counter():
            return real_time.perf_counter() + clock["offset"]

    def fake_round(outcome, *args):
        order.append("round")
        outcome.n_rounds += 1
        clock["offset"] += round_seconds

    monkeypatch.setattr(search_jobs, "time", Clock)
    monkeypatch.setattr(search_jobs, "run_function_round", fake_round)
    model = NALURegressor(
        architectures=("power", "functions"),
        hidden_widths=(1,),
        n_restarts=3,
        max_iter=20,
        max_time=10**6,
        random_state=0,
        verbose=0,
        n_jobs=n_jobs,
    )
    real_keep = search_jobs._PlanRun._keep

    def keep(self, result):
        order.append(f"restart {result.runs[0].restart}")
        return real_keep(self, result)

    monkeypatch.setattr(search_jobs._PlanRun, "_keep", keep)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(rng.uniform(1, 5, (200, 2)), rng.normal(size=200))
    return order


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_slow_function_rounds_take_turns_with_the_restarts(monkeypatch, n_jobs):
    # Each round takes far more than its share: one round per restart.
    order = _round_order(monkeypatch, n_jobs, round_seconds=1000.0)
    later_rounds = ["round"] * (len(FUNCTION_ROUNDS) - 3)
    assert order == [
        "restart 0", "round", "restart 1", "round", "restart 2", "round",
        *later_rounds,
    ]  # fmt: skip


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_quick_function_rounds_run_on_while_under_their_share(monkeypatch, n_jobs):
    # Rounds that take no time stay under their share: after the first
    # restart (the arithmetic laws' place) every round runs before the next.
    order = _round_order(monkeypatch, n_jobs, round_seconds=0.0)
    assert order == [
        "restart 0",
        *["round"] * len(FUNCTION_ROUNDS),
        "restart 1",
        "restart 2",
    ]


def test_function_turn_is_the_share_of_the_elapsed_time():
    assert search_jobs.FUNCTION_SHARE == pytest.approx(2 / 3)
    assert search_jobs.function_turn(5.9, 9.0)
    assert not search_jobs.function_turn(6.0, 9.0)
    assert not search_jobs.function_turn(0.0, 0.0)


def test_groups_hold_consecutive_restarts_of_one_body():
    plan = [
        PlanEntry(name, width, restart, seed=10 * restart + width)
        for restart in range(5)
        for name, width in [("power", 1), ("power", 2), ("sum-power", 1)]
    ]
    groups = search_jobs._groups(plan, 2)
    assert [[(plan[i].architecture, plan[i].width, plan[i].restart) for i in g]
            for g in groups[:6]] == [
        [("power", 1, 0)], [("power", 2, 0)], [("sum-power", 1, 0)],
        [("power", 1, 1), ("power", 1, 2)],
        [("power", 2, 1), ("power", 2, 2)],
        [("sum-power", 1, 1), ("sum-power", 1, 2)],
    ]  # fmt: skip
    assert sorted(i for g in groups for i in g) == list(range(len(plan)))
    assert [len(g) for g in groups] == [1, 1, 1, 2, 2, 2, 2, 2, 2]
    assert search_jobs._groups(plan, 1) == [[i] for i in range(len(plan))]


@pytest.mark.parametrize("name", ["ratio", "no early stopping"])
def test_batched_restarts_run_the_same_plan_with_any_n_jobs(name):
    law, truth, params = SEARCHES[name]
    one = _fit(law, 1, n_restarts=3, **params)
    batched = _fit(law, 1, n_restarts=3, restart_batch=2, **params)
    on_workers = _fit(law, 2, n_restarts=3, restart_batch=2, **params)
    # Restarts 1 and 2 of each body trained as one batched model.
    assert sympy.simplify(batched.expression_ - truth) == 0
    assert _table(batched) == _table(on_workers)
    if not params.get("early_stopping", True):
        assert batched.n_iter_ == one.n_iter_ == 2 * 2 * 3  # every run, batched

"""The scikit-learn estimator: fit tabular data, return an exact formula."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from nalu_sr._equations import build_table, table_candidates, table_cell
from nalu_sr._params import check_fraction, feature_symbols, resolve_search_config
from nalu_sr._progress import SearchProgress
from nalu_sr.architectures import DEFAULT_ARCHITECTURES
from nalu_sr.exceptions import PoorFitWarning
from nalu_sr.export.jax import JaxExpression, sympy_to_jax
from nalu_sr.export.numpy import CallableExpression
from nalu_sr.export.serialize import (
    ModelFileError,
    candidate_from_json,
    candidate_to_json,
    expression_to_tree,
    read_model_file,
    symbols_from_names,
    tree_to_expression,
    write_model_file,
)
from nalu_sr.export.text import sympy_to_latex, sympy_to_string
from nalu_sr.export.torch import SympyModule, sympy_to_torch
from nalu_sr.extraction.candidate import Split
from nalu_sr.model import StackedModel
from nalu_sr.primitives import Primitive
from nalu_sr.search import (
    SearchConfig,
    SearchOutcome,
    plan_search,
    run_search,
    select_candidate,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Relative validation loss above which the chosen formula is reported as poor.
POOR_FIT_LOSS = 1e-2
_MIN_ROWS_TO_SPLIT = 10


class NALURegressor(RegressorMixin, BaseEstimator):
    """Symbolic regression with neural arithmetic units.

    ``fit`` trains small networks of arithmetic units (several families,
    widths and restarts), snaps each to exact integer or half-integer weights,
    refits the constants of its linear head by least squares, replaces them by
    simple exact numbers where the data allows, and keeps the simplest formula
    whose validation error is close to the best. ``predict`` evaluates that
    formula, not a network.

    Parameters
    ----------
    primitives : sequence of str or Primitive, or None, default=None
        Functions the ``"attention"`` architecture attends over; ``None`` means
        :data:`~nalu_sr.ARITHMETIC_PRIMITIVES`. Custom ones come from
        :func:`~nalu_sr.make_primitive`.
    architectures : sequence of str, default=("power", "sum-power")
        Body families to search, from :data:`~nalu_sr.ARCHITECTURES`:
        ``"power"`` (sums of monomials), ``"sum-power"`` (powers and ratios of
        sums), ``"sum-product"`` (NAU -> NMU), ``"nalu"`` (the paper's stacked
        NALU) and ``"attention"`` (primitive attention).
    hidden_widths : int, sequence of int or None, default=None
        Hidden widths to try; ``None`` uses each family's defaults.
    n_restarts : int, default=3
        Training runs per family and width. The first runs of the ``"power"``
        family start from data-driven initialisations.
    max_iter : int, default=800
        Optimiser steps per training run.
    learning_rate_init : float, default=0.05
        Adam's learning rate.
    batch_size : int or None, default=None
        Rows per step; ``None`` uses all of the rows bodies train on.
    max_samples : int or None, default=2000
        Bodies train on at most this many training rows (a fixed random
        sample), which bounds the cost of a step on large tables; the head,
        the constants, pruning and selection still use every row. ``None``
        trains on all rows.
    penalty_weight : float, default=0.05
        Peak weight of the pull of parameters towards their snapped values.
    early_stopping : bool, default=True
        Stop the search as soon as a formula fits the validation rows to
        within ``tol``.
    validation_fraction : float, default=0.2
        Fraction of rows held out to judge and select formulas (all rows are
        used for both when there are fewer than 10).
    tol : float, default=1e-10
        Relative validation error (MSE / variance) at or below which a
        formula counts as exact. Constant simplification and pruning may also
        degrade the error up to this value.
    selection_factor : float, default=2.0
        A formula qualifies for selection when its validation error is at most
        this factor times the best and at most ``(selection_factor - 1) *
        0.01`` above it; the simplest qualifying formula is chosen.
    max_time : float or None, default=None
        Time budget of the search in seconds. A run still training when it
        is spent stops early and is snapped and extracted; no new run starts.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and every training run.
    verbose : int, default=0
        0: silent. 1: a progress line on stderr (runs done/planned, best
        validation error so far, elapsed time), drawn only where stderr is a
        terminal and once the fit has run for a second. 2 or more: also one
        line per training run on stdout.
    device : str, default="cpu"
        Torch device for training.

    Attributes
    ----------
    expression_ : sympy.Expr
        The chosen formula, over real symbols named after the features.
    equations_ : pandas.DataFrame or list of dict
        Every kept candidate, sorted by complexity, one row each: a DataFrame
        indexed by candidate number when pandas is installed, otherwise a
        list of dicts with the same keys. Columns: ``complexity`` (nodes of
        the expression tree), ``loss`` (relative validation error), ``score``
        (drop in log loss per extra node against the best simpler candidate),
        ``equation`` (the formula as a string), ``sympy_format`` (the SymPy
        formula), ``exact`` (``loss <= tol``), ``train_loss``,
        ``architecture``, ``width``, ``seed`` (``None`` for closed-form
        candidates) and ``chosen``.
    best_index_ : int
        Candidate number of the chosen formula in ``equations_``.
    loss_ : float
        Relative validation error (MSE / variance) of the chosen formula.
    exact_ : bool
        Whether ``loss_ <= tol``.
    module_ : StackedModel or None
        The trained, snapped torch body of the chosen formula (``None`` for
        the closed-form linear candidate).
    history_ : list of float
        Training loss per step of the chosen formula's run.
    n_iter_ : int
        Number of training runs performed.
    feature_symbols_ : list of sympy.Symbol
        Symbols of the features, in column order.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from nalu_sr import NALURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 5, size=(200, 2))
    >>> model = NALURegressor(random_state=0).fit(X, X[:, 0] * X[:, 1])
    >>> model.expression_
    x0*x1
    """

    def __init__(
        self,
        *,
        primitives: Sequence[str | Primitive] | None = None,
        architectures: Sequence[str] = DEFAULT_ARCHITECTURES,
        hidden_widths: int | Sequence[int] | None = None,
        n_restarts: int = 3,
        max_iter: int = 800,
        learning_rate_init: float = 0.05,
        batch_size: int | None = None,
        max_samples: int | None = 2000,
        penalty_weight: float = 0.05,
        early_stopping: bool = True,
        validation_fraction: float = 0.2,
        tol: float = 1e-10,
        selection_factor: float = 2.0,
        max_time: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        device: str = "cpu",
    ) -> None:
        self.primitives = primitives
        self.architectures = architectures
        self.hidden_widths = hidden_widths
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_samples = max_samples
        self.penalty_weight = penalty_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.tol = tol
        self.selection_factor = selection_factor
        self.max_time = max_time
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = str(self.device) != "cpu"
        return tags

    def fit(self, X: Any, y: Any) -> NALURegressor:
        """Search for the formula behind ``y = f(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs; a DataFrame's column names become the formula's symbols.
        y : array-like of shape (n_samples,)
            Targets.

        Returns
        -------
        NALURegressor
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        config = resolve_search_config(self.get_params())
        check_fraction("validation_fraction", self.validation_fraction)
        random_state = check_random_state(self.random_state)
        split = self._split(X, y, random_state)
        names = getattr(self, "feature_names_in_", None)
        symbols = feature_symbols(
            list(names) if names is not None else [f"x{i}" for i in range(X.shape[1])]
        )
        plan = plan_search(config, random_state)
        threads = 1 if config.device.type == "cpu" else None
        with _torch_threads(threads), SearchProgress(self.verbose) as progress:
            outcome = run_search(
                split,
                _input_scale(split.X_train),
                symbols,
                config,
                plan,
                progress,
                body_rows=_sample_rows(len(split.y_train), config, random_state),
            )
        self._set_fitted(outcome, symbols)
        return self

    def _split(
        self, X: np.ndarray, y: np.ndarray, random_state: np.random.RandomState
    ) -> Split:
        """Shuffle and hold out validation rows (or validate on all rows if few)."""
        if len(y) < _MIN_ROWS_TO_SPLIT:
            return Split(X, y, X, y)
        order = random_state.permutation(len(y))
        n_val = max(1, round(self.validation_fraction * len(y)))
        val, train = order[:n_val], order[n_val:]
        return Split(X[train], y[train], X[val], y[val])

    def _set_fitted(self, outcome: SearchOutcome, symbols: list[sympy.Symbol]) -> None:
        """Select the formula and store every fitted attribute."""
        order = sorted(
            range(len(outcome.candidates)),
            key=lambda i: (
                outcome.candidates[i].complexity,
                outcome.candidates[i].validation_loss,
            ),
        )
        candidates = [outcome.candidates[i] for i in order]
        chosen = select_candidate(candidates, self.tol, self.selection_factor)
        best = candidates[chosen]
        self.feature_symbols_ = symbols
        self.equations_ = build_table(candidates, chosen, self.tol)
        self.best_index_ = chosen
        self.expression_ = best.expression
        self.loss_ = best.validation_loss
        self.exact_ = best.validation_loss <= self.tol
        self.module_: StackedModel | None = outcome.modules[order[chosen]]
        self.history_ = outcome.histories[order[chosen]]
        self.n_iter_ = outcome.n_trained
        self._predictor = CallableExpression(best.expression, symbols)
        if outcome.interrupted:
            warnings.warn(
                "search interrupted: keeping the best formula found so far",
                UserWarning,
                stacklevel=3,
            )
        if best.validation_loss > POOR_FIT_LOSS:
            warnings.warn(
                f"no formula fits the data well: the best has a relative "
                f"validation error of {best.validation_loss:.3g} "
                f"(R^2 = {1 - best.validation_loss:.3g}): {best.expression}",
                PoorFitWarning,
                stacklevel=3,
            )

    def predict(self, X: Any) -> np.ndarray:
        """Evaluate the chosen formula.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples,)
            The formula's values.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._predictor(X)

    def sympy(self, index: int | None = None) -> sympy.Expr:
        """Return the chosen formula, or candidate ``index`` of ``equations_``.

        Parameters
        ----------
        index : int or None, default=None
            Candidate number (row of ``equations_``; negative counts from the
            end); ``None`` means the chosen formula.

        Returns
        -------
        sympy.Expr
            The formula over :attr:`feature_symbols_`.

        Raises
        ------
        IndexError
            If there is no candidate ``index``.
        """
        check_is_fitted(self)
        if index is None:
            return self.expression_
        expression: sympy.Expr = table_cell(self.equations_, index, "sympy_format")
        return expression

    def to_callable(self, index: int | None = None) -> CallableExpression:
        """Return a picklable NumPy function of the chosen (or ``index``) formula.

        The function takes an array of shape ``(n_samples, n_features)`` in the
        column order seen in ``fit`` and returns shape ``(n_samples,)``.
        """
        return CallableExpression(self.sympy(index), self.feature_symbols_)

    def to_torch(self, index: int | None = None) -> SympyModule:
        """Return the chosen (or ``index``) formula as a ``torch.nn.Module``.

        Float constants become trainable parameters, exact numbers stay exact;
        after fine-tuning, ``module.sympy()`` returns the updated formula.
        The module takes a tensor of shape ``(n_samples, n_features)``.
        """
        return sympy_to_torch(self.sympy(index), self.feature_symbols_)

    def to_jax(self, index: int | None = None) -> JaxExpression:
        """Return the chosen (or ``index``) formula as a pure JAX function.

        Float constants are an array argument, exact numbers stay exact, so
        ``jax.jit`` and ``jax.grad`` (with respect to the inputs or the
        constants) apply; ``expression.sympy(constants)`` puts new constants
        back into the formula. Needs JAX (``pip install nalu_sr[jax]``).

        Parameters
        ----------
        index : int or None, default=None
            Candidate number in ``equations_``; ``None`` means the chosen one.

        Returns
        -------
        JaxExpression
            Call it on an array of shape ``(n_samples, n_features)``; its
            ``function(X, constants)`` is the pure function and its
            ``constants`` the fitted values.

        Raises
        ------
        ImportError
            If JAX is not installed.
        """
        return sympy_to_jax(self.sympy(index), self.feature_symbols_)

    def plot_pareto(self, ax: Axes | None = None) -> Axes:
        """Plot complexity against validation error of every candidate.

        See :func:`nalu_sr.plotting.plot_pareto`; needs matplotlib
        (``pip install nalu_sr[plot]``).

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default=None
            Where to draw; ``None`` draws in a new figure.

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn in.
        """
        from nalu_sr.plotting import plot_pareto

        return plot_pareto(self, ax=ax)

    def plot_predictions(
        self,
        X: Any,
        y: Any,
        X_extrapolation: Any = None,
        y_extrapolation: Any = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Plot predicted against true values, with optional extrapolation data.

        See :func:`nalu_sr.plotting.plot_predictions`; needs matplotlib.

        Parameters
        ----------
        X, y : array-like
            Data from the training range.
        X_extrapolation, y_extrapolation : array-like or None, default=None
            Data outside it, drawn in another colour.
        ax : matplotlib.axes.Axes or None, default=None
            Where to draw; ``None`` draws in a new figure.

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn in.
        """
        from nalu_sr.plotting import plot_predictions

        return plot_predictions(self, X, y, X_extrapolation, y_extrapolation, ax=ax)

    def plot_graph(self, index: int | None = None, ax: Axes | None = None) -> Axes:
        """Draw the chosen (or ``index``) formula's expression tree.

        See :func:`nalu_sr.plotting.plot_graph`; needs matplotlib.

        Parameters
        ----------
        index : int or None, default=None
            Candidate number in ``equations_``; ``None`` means the chosen one.
        ax : matplotlib.axes.Axes or None, default=None
            Where to draw; ``None`` draws in a new figure.

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn in.
        """
        from nalu_sr.plotting import plot_graph

        return plot_graph(self, index, ax=ax)

    def save(self, path: str | Path) -> None:
        """Write the fitted formulas to a portable JSON model file.

        The file holds the formula and every candidate as JSON trees, the
        feature names, the parameters that are plain values, and the library
        version. :meth:`load` reads it back without executing anything from it.

        Parameters
        ----------
        path : str or pathlib.Path
            Where to write.
        """
        check_is_fitted(self)
        params = {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in self.get_params().items()
            if _is_plain_json(v)
        }
        names = getattr(self, "feature_names_in_", None)
        write_model_file(
            path,
            {
                "nalu_sr_version": _library_version(),
                "symbols": [s.name for s in self.feature_symbols_],
                "feature_names_in": None if names is None else [str(n) for n in names],
                "params": params,
                "expression": expression_to_tree(self.expression_),
                "loss": self.loss_,
                "exact": self.exact_,
                "n_iter": self.n_iter_,
                "best_index": self.best_index_,
                "equations": [
                    candidate_to_json(candidate, number == self.best_index_)
                    for number, candidate in enumerate(
                        table_candidates(self.equations_)
                    )
                ],
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> NALURegressor:
        """Read a model file written by :meth:`save`; it predicts the same.

        Nothing in the file is executed: formulas are rebuilt from a whitelist
        of SymPy node types, numbers and the file's declared feature symbols.
        The torch module and training history are not stored.

        Parameters
        ----------
        path : str or pathlib.Path
            The model file.

        Returns
        -------
        NALURegressor
            A fitted estimator whose ``predict`` evaluates the stored formula.

        Raises
        ------
        ModelFileError
            If the file is malformed or holds anything outside the whitelist.
        """
        document = read_model_file(path)
        symbols = symbols_from_names(document.get("symbols", []))
        params = document.get("params", {})
        if not isinstance(params, dict):
            raise ModelFileError("the model file's 'params' must be a JSON object")
        known = cls().get_params()
        kwargs: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in params.items()
            if k in known
        }
        model = cls(**kwargs)
        model._restore(document, symbols)
        return model

    def _restore(self, document: dict[str, Any], symbols: dict[str, Any]) -> None:
        """Set the fitted attributes from a model file's contents."""
        try:
            entries = document["equations"]
            candidates = [candidate_from_json(entry, symbols) for entry in entries]
            self.expression_ = tree_to_expression(document["expression"], symbols)
            self.loss_ = float(document["loss"])
            self.exact_ = bool(document["exact"])
            self.best_index_ = int(document["best_index"])
            self.n_iter_ = int(document["n_iter"])
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, ModelFileError):
                raise
            raise ModelFileError(f"incomplete model file: {error!r}") from error
        if not 0 <= self.best_index_ < len(candidates):
            raise ModelFileError(
                f"the model file's best_index {self.best_index_} names no candidate"
            )
        self.equations_ = build_table(candidates, self.best_index_, self.tol)
        self.feature_symbols_ = list(symbols.values())
        self.n_features_in_ = len(symbols)
        if document.get("feature_names_in") is not None:
            self.feature_names_in_ = np.asarray(
                document["feature_names_in"], dtype=object
            )
        self.module_ = None
        self.history_ = []
        self._predictor = CallableExpression(self.expression_, self.feature_symbols_)

    def latex(self, index: int | None = None, precision: int | None = 3) -> str:
        """Return the chosen (or ``index``) formula as LaTeX.

        Parameters
        ----------
        index : int or None, default=None
            Candidate number in ``equations_``; ``None`` means the chosen one.
        precision : int or None, default=3
            Significant digits of each float constant; ``None`` keeps them all.
            Integers, rationals and ``pi`` are exact and printed as they are.

        Returns
        -------
        str
            The LaTeX source, without surrounding ``$``.
        """
        return sympy_to_latex(self.sympy(index), precision)

    def to_string(self, index: int | None = None, precision: int | None = None) -> str:
        """Return the chosen (or ``index``) formula as a string.

        Parameters
        ----------
        index : int or None, default=None
            Candidate number in ``equations_``; ``None`` means the chosen one.
        precision : int or None, default=None
            Significant digits of each float constant; ``None`` keeps them all,
            as in the ``equation`` column of ``equations_``.

        Returns
        -------
        str
            The formula in SymPy's (Python-compatible) syntax.
        """
        return sympy_to_string(self.sympy(index), precision)


def _sample_rows(
    n_rows: int, config: SearchConfig, random_state: np.random.RandomState
) -> np.ndarray | None:
    """Training rows that bodies train on: all, or a sorted random sample."""
    if config.max_samples is None or n_rows <= config.max_samples:
        return None
    return np.sort(random_state.choice(n_rows, config.max_samples, replace=False))


def _is_plain_json(value: Any) -> bool:
    """Whether a parameter value survives a JSON round trip unchanged."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, tuple | list):
        return all(isinstance(v, bool | int | float | str) for v in value)
    return False


def _library_version() -> str:
    from nalu_sr import __version__

    return __version__


def _input_scale(X: np.ndarray) -> float:
    """Return a positive constant of the inputs' order: their root mean square."""
    scale = float(np.sqrt(np.mean(X**2))) if X.size else 1.0
    return scale if np.isfinite(scale) and scale > 0 else 1.0


@contextmanager
def _torch_threads(n_threads: int | None) -> Iterator[None]:
    """Temporarily set torch's intra-op threads; tiny problems run fastest on one."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

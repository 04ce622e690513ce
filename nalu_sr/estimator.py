"""The scikit-learn estimator: fit tabular data, return an exact formula."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from nalu_sr._column_fit import fit_column
from nalu_sr._fit_data import (
    data_precision,
    row_weights,
    validate_rows,
)
from nalu_sr._formula_methods import FormulaMethods
from nalu_sr._outputs import (
    OutputBudget,
    OutputData,
    column_random_state,
    output_label,
    store_outputs,
    target_columns,
)
from nalu_sr._params import PARAMETER_CONSTRAINTS, check_parameters
from nalu_sr.architectures import DEFAULT_ARCHITECTURES
from nalu_sr.dimensions import fit_units
from nalu_sr.exceptions import ModelFileError
from nalu_sr.export.numpy import CallableExpression
from nalu_sr.export.persistence import load_model, save_model
from nalu_sr.primitives import Primitive
from nalu_sr.search import (
    SearchConfig,
    resolve_search_config,
)
from nalu_sr.symbols import feature_symbols


class NALURegressor(FormulaMethods, RegressorMixin, BaseEstimator):
    """Symbolic regression with neural arithmetic units.

    ``fit`` trains small networks of arithmetic units (several families,
    widths and restarts), snaps each to exact integer or half-integer weights,
    refits the constants of its linear head by least squares, replaces them by
    simple exact numbers where the data allows, and keeps the simplest formula
    whose validation error is close to the best. ``predict`` evaluates that
    formula, not a network.

    Any input column or target whose root mean square is below ``1e-3`` or
    at least ``1e4`` is divided by a power of ten before the search, and the
    formulas are rewritten exactly over the raw features afterwards, so that
    data in any consistent units (farads, nanometres) give the same law.

    A target matrix gives one formula per column: the attributes from
    ``expression_`` to ``n_iter_`` then hold a list, one entry per column
    (see ``estimators_``).

    Parameters
    ----------
    primitives : sequence of str or Primitive, or None, default=None
        Functions the ``"functions"`` family applies (its unary members) and
        the ``"attention"`` architecture attends over; ``None`` means
        :data:`~nalu_sr.DEFAULT_PRIMITIVES` (the arithmetic set plus exp,
        log, sin, cos and tanh). Custom ones come from
        :func:`~nalu_sr.make_primitive` and take part like built-ins.
    architectures : sequence of str, default=("power", "sum-power", "functions")
        Families to search: the trained bodies of
        :data:`~nalu_sr.ARCHITECTURES`, ``"power"`` (sums of monomials),
        ``"sum-power"`` (powers and ratios of sums), ``"sum-product"``
        (NAU -> NMU), ``"nalu"`` (the paper's stacked NALU) and
        ``"attention"`` (primitive attention); and ``"functions"``, sums of
        terms ``P(x) * u(a*g(x) + b)`` with ``u`` a primitive, also under the
        target transforms ``1/y``, ``log y`` and ``y**2`` (see
        :mod:`nalu_sr.functions`), searched after the bodies when none of them
        is exact.
    hidden_widths : int, sequence of int or None, default=None
        Hidden widths to try; ``None`` uses each family's defaults.
    n_restarts : int, default=3
        Training runs per family and width. The first runs of the ``"power"``
        family start from data-driven initialisations.
    restart_batch : int, default=16
        Restarts of one family and width that train together as one batched
        model (their parameters stacked, :func:`torch.func.vmap`), so that
        one optimiser step advances all of them; each still gets its own
        formula. The first restart, which starts from the data-driven
        initialisation and often snaps exactly at once, always trains alone;
        restarts ``1..restart_batch`` form the next batch, and so on. Each
        restart follows the path it would follow alone up to
        floating-point rounding (and shares the mini-batch rows when
        ``batch_size`` is set), so the formula for a given ``random_state``
        can change with this setting. See docs/parallel.md for its speed.
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
    warm_start : bool, default=False
        A later ``fit`` on the same data (and the same parameters, apart from
        ``max_time``, ``random_state``, ``verbose`` and ``n_jobs``) continues
        the previous search instead of starting over: the same validation
        split and plan, the candidates found so far, and the training runs
        and function-search rounds not yet finished, with a fresh
        ``max_time``. A function-search round cut short by the budget goes on
        where it stopped. Other data start a new search. The kept state holds
        a copy of the data; it is not written to model files.
    dimensional_analysis : bool, default=True
        When ``fit`` is given ``X_units`` and ``y_units``, first search the
        law as ``y = prefactor * f(groups)`` over the inputs' dimensionless
        groups (Buckingham's pi theorem, see :mod:`nalu_sr.dimensionless`),
        with up to half of ``max_time``; the search over the inputs gets the
        rest, and is skipped when the groups gave a law. Formulas of both
        searches are judged and chosen together, over the inputs. Without
        units it does nothing.
    validation_fraction : float, default=0.2
        Fraction of rows held out to judge and select formulas (all rows are
        used for both when there are fewer than 10; no formula is then
        claimed exact, see ``exact_``).
    tol : float or None, default=None
        Relative validation error (MSE / variance) at or below which a
        formula may count as exact and ends the search. ``None`` uses the
        data's precision floor, ``(100 * eps)**2 * mean(y**2) / var(y)`` with
        ``eps`` the machine epsilon of the coarser of ``X``'s and ``y``'s
        dtype (see :mod:`nalu_sr.exactness`); constant simplification and
        pruning may then degrade the error up to ``1e-16`` on their way.
    selection_factor : float, default=2.0
        A formula qualifies for selection when its validation error is at most
        this factor times the best, at most ``(selection_factor - 1) * 0.01``
        above it and at most ``(1 + sqrt(2 / n_val)) ** (selection_factor -
        1)`` times it (one standard error of a mean square over the ``n_val``
        validation rows at the default, see
        :func:`nalu_sr.selection.noise_margin`); the simplest qualifying
        formula is chosen, each fitted float counting as two nodes. A law
        (``exact_``) always comes first. When the choice is an approximation
        with fitted floats, a shorter one wins if each node it sheds costs
        less than ``(selection_factor - 1) * 3e-5`` of R^2 (see
        :func:`nalu_sr.selection.approximation_score`).
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
    n_jobs : int or None, default=None
        Candidate trainings (each with its snapping and extraction) run at
        once, in joblib workers: ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` means all cores.
        ``with joblib.parallel_config(backend="dask"): model.fit(X, y)``
        runs them on a dask cluster. The formula for a given
        ``random_state`` is the same for every ``n_jobs`` and backend. A
        worker that dies or a cluster that goes away ends the search with
        the best formula found so far and a warning.

    Attributes
    ----------
    expression_ : sympy.Expr
        The chosen formula, over real symbols named after the features.
    equations_ : pandas.DataFrame or list of dict
        Every kept candidate, sorted by complexity, one row each: a DataFrame
        indexed by candidate number when pandas is installed, otherwise a
        list of dicts with the same keys. Columns: ``complexity`` (nodes of
        the expression tree, counted before the units of the data are put
        back, see below), ``loss`` (relative validation error), ``score``
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
        Whether the chosen formula is a law: (a) ``loss_`` is at most the
        precision floor (``precision_floor_``), (b) its free constants (its
        intercept, one coefficient per term, and any float inside a term;
        see :func:`nalu_sr.exactness.free_constants`), refitted on the inner
        80% of the rows, predict the outer 20% to the same floor (the
        ``extrapolation_loss`` column of ``equations_``), and (c) held-out
        validation rows outnumber those constants. Fewer rows can be
        interpolated by a wrong formula: ``exact_`` is then ``False`` and
        ``fit`` warns with an
        :class:`~nalu_sr.exceptions.InsufficientDataWarning` that names the
        number of rows needed. The ``exact`` column of ``equations_`` applies
        the same rule to every candidate.
    precision_floor_ : float
        The relative error a law must reach (``tol`` when set).
    module_ : StackedModel or None
        The trained, snapped torch body of the chosen formula (``None`` for
        the closed-form linear candidate).
    history_ : list of float
        Training loss per step of the chosen formula's run.
    n_iter_ : int
        Number of training runs performed.
    n_outputs_ : int
        Target columns: 1 for one-dimensional ``y``.
    estimators_ : list of NALURegressor
        Only after a fit to a target matrix: one fitted single-target
        estimator per column, holding that column's formulas (its plots and
        exports); its formula is the one a fit of that column alone gives.
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

    _parameter_constraints: ClassVar[Mapping[str, list[Any]]] = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        *,
        primitives: Sequence[str | Primitive] | None = None,
        architectures: Sequence[str] = DEFAULT_ARCHITECTURES,
        hidden_widths: int | Sequence[int] | None = None,
        n_restarts: int = 3,
        restart_batch: int = 16,
        max_iter: int = 800,
        learning_rate_init: float = 0.05,
        batch_size: int | None = None,
        max_samples: int | None = 2000,
        penalty_weight: float = 0.05,
        early_stopping: bool = True,
        warm_start: bool = False,
        dimensional_analysis: bool = True,
        validation_fraction: float = 0.2,
        tol: float | None = None,
        selection_factor: float = 2.0,
        max_time: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        device: str = "cpu",
        n_jobs: int | None = None,
    ) -> None:
        self.primitives = primitives
        self.architectures = architectures
        self.hidden_widths = hidden_widths
        self.n_restarts = n_restarts
        self.restart_batch = restart_batch
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_samples = max_samples
        self.penalty_weight = penalty_weight
        self.early_stopping = early_stopping
        self.warm_start = warm_start
        self.dimensional_analysis = dimensional_analysis
        self.validation_fraction = validation_fraction
        self.tol = tol
        self.selection_factor = selection_factor
        self.max_time = max_time
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = str(self.device) != "cpu"
        tags.target_tags.multi_output = True
        return tags

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        X_units: Sequence[str] | None = None,
        y_units: str | Sequence[str] | None = None,
    ) -> NALURegressor:
        """Search for the formula behind ``y = f(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs; a DataFrame's column names become the formula's symbols.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; a matrix gives one formula per column (see
            ``estimators_``), the columns sharing ``max_time``.
        sample_weight : array-like of shape (n_samples,), float or None, default=None
            Non-negative row weights (for example ``1 / sigma**2`` of each
            measurement). Every loss is weighted: training, the least-squares
            head, the inner constants of function terms, constant snapping and
            the validation error that selects the formula (``loss_``). Rows of
            weight zero are left out entirely; ``None`` weighs rows equally.
        X_units : sequence of str or None, default=None
            Physical unit of each feature, such as ``"kg*m/s**2"`` (see
            :mod:`nalu_sr.dimensions`); with ``y_units``, a formula whose
            dimension matches the target's is preferred among formulas that
            fit equally well (a penalty, never a refusal).
        y_units : str, sequence of str or None, default=None
            Unit of the target (one per column of a target matrix).

        Returns
        -------
        NALURegressor
            The fitted estimator.
        """
        config = self._check_params()
        # float32 stays float32 until the split casts it (no full float64 copy).
        dtype = [np.float64, np.float32]
        X, y = validate_rows(self, X, y, y_numeric=True, dtype=dtype, multi_output=True)
        precision = data_precision(X, y)
        X, y, weights = row_weights(sample_weight, X, np.asarray(y, dtype=np.float64))
        names = getattr(self, "feature_names_in_", None)
        symbols = feature_symbols(
            list(names) if names is not None else [f"x{i}" for i in range(X.shape[1])]
        )
        columns = target_columns(y)
        units = fit_units(X_units, y_units, symbols, len(columns))
        budget = OutputBudget(self.max_time, len(columns))
        previous = getattr(self, "_warm_states", None) if self.warm_start else None
        params = self.get_params()
        fitted, states = [], []
        for k, column in enumerate(columns):
            output = dataclasses.replace(config, max_time=budget.next_output())
            data = OutputData(X, column, weights, precision, symbols)
            random_state = column_random_state(self.random_state, len(columns))
            formulas, messages, state = fit_column(
                params, data, output, random_state, (previous, k), units[k]
            )
            fitted.append(formulas)
            states.append(state)
            for message, category in messages:
                label = output_label(k, len(columns), y.ndim)
                warnings.warn(label + message, category, stacklevel=2)
        store_outputs(self, fitted, multi_output=y.ndim == 2)
        # Kept only on request: the split holds a copy of the data.
        self.__dict__.pop("_warm_states", None)
        if self.warm_start:
            self._warm_states = states
        return self

    def _check_params(self) -> SearchConfig:
        """Check every parameter, before any work, and resolve the search's."""
        self._validate_params()
        params = self.get_params()
        check_parameters(params)
        return resolve_search_config(params)

    def predict(self, X: Any) -> np.ndarray:
        """Evaluate the chosen formula.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The formula's values, one column per target column when ``fit``
            saw a target matrix.
        """
        check_is_fitted(self)
        X = validate_rows(self, X, reset=False, dtype=np.float64)
        predictors: list[CallableExpression] = self._predictors
        if len(predictors) == 1 and not hasattr(self, "estimators_"):
            return predictors[0](X)
        return np.column_stack([predictor(X) for predictor in predictors])

    def save(self, path: str | Path) -> None:
        """Write the fitted formulas to a portable JSON model file.

        The file holds the formula and every candidate as JSON trees, the
        feature names, the parameters that are plain values, and the library
        version. :meth:`load` reads it back without executing anything from it.
        See :func:`nalu_sr.export.persistence.save_model`.

        Parameters
        ----------
        path : str or pathlib.Path
            Where to write.
        """
        check_is_fitted(self)
        save_model(self, path)

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
        loaded = load_model(path, cls().get_params())
        model = cls(**loaded.params)
        try:
            model._validate_params()
        except ValueError as error:  # sklearn's InvalidParameterError
            raise ModelFileError(f"the model file's parameters: {error}") from None
        model.n_features_in_ = len(loaded.formulas[0].symbols)
        if loaded.feature_names_in is not None:
            model.feature_names_in_ = np.asarray(loaded.feature_names_in, dtype=object)
        store_outputs(model, loaded.formulas, loaded.multi_output)
        return model

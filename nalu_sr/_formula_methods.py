"""The methods of ``NALURegressor`` that read its fitted formulas.

Every method here reads the table of candidates (``equations_``) and the
feature symbols that a fit or a model file left, and turns the chosen formula
(or candidate ``index``) into another form: SymPy, NumPy, torch, JAX, text,
LaTeX, or a plot.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sympy
from sklearn.utils.validation import check_is_fitted
from sympy import Expr

from nalu_sr._equations import table_cell
from nalu_sr._outputs import output_indices
from nalu_sr.export.jax import JaxExpression, sympy_to_jax
from nalu_sr.export.numpy import CallableExpression
from nalu_sr.export.text import sympy_to_latex, sympy_to_string
from nalu_sr.export.torch import SympyModule, sympy_to_torch

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from nalu_sr.plotting import FittedRegressor


_Converted = TypeVar("_Converted")


def per_target(
    method: Callable[..., _Converted],
) -> Callable[..., _Converted | list[_Converted]]:
    """Map a method over the target columns of a model fitted to a target matrix.

    On such a model (one with ``estimators_``) the method returns a list, one
    entry per column, and its ``index`` is ``None`` or one candidate number per
    column; otherwise it runs as written.
    """

    @functools.wraps(method)
    def each_target(self: Any, index: Any = None, *args: Any, **kwargs: Any) -> Any:
        estimators = getattr(self, "estimators_", None)
        if estimators is None:
            return method(self, index, *args, **kwargs)
        indices = output_indices(index, len(estimators))
        return [
            method(estimator, i, *args, **kwargs)
            for estimator, i in zip(estimators, indices, strict=True)
        ]

    return each_target


def refuse_several_targets(model: Any, method: str) -> None:
    """Refuse a plot of a model with several targets: it draws one at a time."""
    estimators = getattr(model, "estimators_", None)
    if estimators is not None:
        raise ValueError(
            f"this model has {len(estimators)} target columns: call {method} on "
            f"one of them, for example model.estimators_[0].{method}(...)"
        )


class FormulaMethods:
    """Exports and plots of the fitted formulas, mixed into ``NALURegressor``.

    Attributes
    ----------
    expression_ : sympy.Expr
        The chosen formula.
    equations_ : pandas.DataFrame or list of dict
        Every candidate, one row each.
    feature_symbols_ : list of sympy.Symbol
        Symbols of the features, in column order.
    """

    expression_: sympy.Expr
    equations_: Any
    feature_symbols_: list[sympy.Symbol]

    @per_target
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
        return self._formula(index)

    def _formula(self, index: int | None) -> Expr:
        """Return the chosen formula or candidate ``index`` of one target."""
        check_is_fitted(self)
        if index is None:
            return self.expression_
        expression: Expr = table_cell(self.equations_, index, "sympy_format")
        return expression

    @per_target
    def to_callable(self, index: int | None = None) -> CallableExpression:
        """Return a picklable NumPy function of the chosen (or ``index``) formula.

        The function takes an array of shape ``(n_samples, n_features)`` in the
        column order seen in ``fit`` and returns shape ``(n_samples,)``.
        """
        return CallableExpression(self._formula(index), self.feature_symbols_)

    @per_target
    def to_torch(self, index: int | None = None) -> SympyModule:
        """Return the chosen (or ``index``) formula as a ``torch.nn.Module``.

        Float constants become trainable parameters, exact numbers stay exact;
        after fine-tuning, ``module.sympy()`` returns the updated formula.
        The module takes a tensor of shape ``(n_samples, n_features)``.
        """
        return sympy_to_torch(self._formula(index), self.feature_symbols_)

    @per_target
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
        return sympy_to_jax(self._formula(index), self.feature_symbols_)

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

        refuse_several_targets(self, "plot_pareto")
        return plot_pareto(cast("FittedRegressor", self), ax=ax)

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

        refuse_several_targets(self, "plot_predictions")
        return plot_predictions(
            cast("FittedRegressor", self), X, y, X_extrapolation, y_extrapolation, ax=ax
        )

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

        refuse_several_targets(self, "plot_graph")
        return plot_graph(cast("FittedRegressor", self), index, ax=ax)

    @per_target
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
        return sympy_to_latex(self._formula(index), precision)

    @per_target
    def to_string(self, index: int | None = None, precision: int | None = None) -> str:
        """Return the chosen (or ``index``) formula as a string.

        Parameters
        ----------
        index : int or None, default=None
            Candidate number in ``equations_``; ``None`` means the chosen one.
        precision : int or None, default=None
            Significant digits of each float constant; ``None`` keeps them all
            (the ``equation`` column of ``equations_`` rounds an
            approximation's to 6).

        Returns
        -------
        str
            The formula in SymPy's (Python-compatible) syntax.
        """
        return sympy_to_string(self._formula(index), precision)

"""From a snapped network body to a verified candidate formula.

The body's snapped records give exact hidden expressions (sums, products and
powers of the inputs). A linear head over them is refitted by least squares in
float64 on the raw inputs, its negligible terms are pruned, and its constants
are replaced by simple exact numbers where the validation data allows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from nalu_sr._thresholds import POOR_FIT_LOSS, SYMBOLIC_MAX_ERROR
from nalu_sr.extraction.constants import exact_replacements, loose_replacements
from nalu_sr.extraction.emit import emit
from nalu_sr.extraction.graph import build_graph, prune
from nalu_sr.extraction.simplify import CHECK_ROWS, simplify_checked
from nalu_sr.linalg import least_squares, relative_error, weighted_mean
from nalu_sr.units import LinearCombination, LinearOutput, SnappedUnit
from nalu_sr.units.snapped import Number

#: Relative loss growth accepted when a term is pruned or a constant simplified.
ACCEPTED_LOSS_GROWTH = 1.5
#: ... but never more than this much added relative loss (a share of the
#: target's variance), so a poor fit is not pruned down to a constant.
ACCEPTED_LOSS_INCREASE = 5e-3


def loss_limit(loss: float, tol: float) -> float:
    """Largest validation loss accepted after pruning or simplifying a head."""
    return max(min(loss * ACCEPTED_LOSS_GROWTH, loss + ACCEPTED_LOSS_INCREASE), tol)


@dataclass(frozen=True)
class Split:
    """Training and validation rows in float64, with optional row weights.

    ``w_train`` and ``w_val`` are the rows' ``sample_weight`` (positive);
    ``None`` means equal weights, and every fit and loss is then the plain
    unweighted one.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    w_train: np.ndarray | None = None
    w_val: np.ndarray | None = None


@dataclass(frozen=True)
class Candidate:
    """One formula kept by the search.

    Attributes
    ----------
    expression : sympy.Expr
        The formula over the feature symbols.
    complexity : int
        Number of nodes of the expression tree.
    train_loss, validation_loss : float
        Mean squared error relative to the variance of the target.
    architecture : str
        Name of the body family that produced it.
    width : int
        Hidden width of that body.
    seed : int or None
        Seed of the training run (``None`` for closed-form candidates).
    extrapolation_loss : float or None, default=None
        Relative error on the outer rows after its free constants were
        refitted on the inner ones (:mod:`nalu_sr.exactness`); ``None`` when
        not checked (a loss above the precision floor).
    exact : bool, default=False
        Whether selection judged it a law (see :func:`nalu_sr.selection.choose`).
    """

    expression: sympy.Expr
    complexity: int
    train_loss: float
    validation_loss: float
    architecture: str
    width: int
    seed: int | None
    extrapolation_loss: float | None = None
    exact: bool = False


def expression_complexity(expression: sympy.Expr) -> int:
    """Count the nodes of an expression tree (PySR's default complexity)."""
    return sum(1 for _ in sympy.preorder_traversal(expression))


#: Rows evaluated at once by :func:`hidden_features`: the units' intermediate
#: arrays (logarithms of every input, say) then take a bounded amount of
#: memory however many rows the data have.
BLOCK_ROWS = 65_536


def hidden_features(records: Sequence[SnappedUnit], X: np.ndarray) -> np.ndarray:
    """Evaluate snapped units one after another on ``X``, a block of rows at a time.

    Each block is cast to float64 first, so a float32 ``X`` is never copied
    whole; without units ``X`` itself is returned (float32 stays float32, and
    :meth:`Head.predict` and :func:`nalu_sr.linalg.least_squares` cast its
    columns and blocks).
    """
    if not records:
        return X
    blocks = []
    with np.errstate(all="ignore"):
        for start in range(0, max(len(X), 1), BLOCK_ROWS):
            values = np.asarray(X[start : start + BLOCK_ROWS], dtype=np.float64)
            for record in records:
                values = record.evaluate(values)
            blocks.append(values)
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


@dataclass
class Head:
    """A linear head: chosen columns, their coefficients and an intercept.

    Attributes
    ----------
    columns : list of int
        Hidden features used.
    coefficients : list of Number
        Their coefficients (floats, or exact numbers once simplified).
    intercept : Number
        The constant term.
    """

    columns: list[int]
    coefficients: list[Number]
    intercept: Number

    def predict(self, H: np.ndarray) -> np.ndarray:
        """Evaluate the head on hidden features ``H`` (float32 or 64) in float64."""
        result = np.full(H.shape[0], float(self.intercept))
        for column, coefficient in zip(self.columns, self.coefficients, strict=True):
            values = np.asarray(H[:, column], dtype=np.float64)
            result = result + float(coefficient) * values
        return result


def _least_squares(
    H: np.ndarray,
    y: np.ndarray,
    columns: list[int],
    weights: np.ndarray | None = None,
) -> Head:
    """Fit coefficients of ``columns`` and an intercept by least squares."""
    coefficients, intercept = least_squares(H, y, weights, columns)
    return Head(columns, [float(c) for c in coefficients], intercept)


def fit_head(
    H_train: np.ndarray,
    H_val: np.ndarray,
    split: Split,
    columns: list[int],
    tol: float,
    symbolic: bool | None = None,
) -> Head:
    """Fit a linear head on hidden features: least squares, pruning, constants.

    Parameters
    ----------
    H_train, H_val : numpy.ndarray
        Hidden features of the training and validation rows.
    split : Split
        The rows (only the targets and weights are read).
    columns : list of int
        Columns of ``H`` the head may use.
    tol : float
        Relative validation loss that pruning and constant simplification
        may always reach.
    symbolic : bool or None, default=None
        Whether constants may become simple exact numbers; ``None`` decides
        by :func:`symbolic_fit` of the unsimplified head, and lets them match
        loosely (within 1%) only if its relative error is at most
        :data:`LOOSE_MATCH_MAX_LOSS`. ``True`` (the caller judged the fit
        within the noise, on a target the head's rows may only transform)
        allows both; ``False`` keeps decimals, dropping only negligible terms.

    Returns
    -------
    Head
        Columns kept, their coefficients and the intercept (exact numbers
        where the validation rows allow).
    """
    head = _least_squares(H_train, split.y_train, columns, split.w_train)
    head = _prune_terms(head, H_train, split, H_val, tol)
    return _simplify_constants(head, H_val, split, tol, symbolic)


def _distinct_columns(expressions: Sequence[sympy.Expr], H: np.ndarray) -> list[int]:
    """Columns with finite values, a non-constant expression, first of duplicates."""
    kept: list[int] = []
    seen: set[sympy.Expr] = set()
    for j, expression in enumerate(expressions):
        if expression.is_number or expression in seen:
            continue
        if not np.all(np.isfinite(H[:, j])):
            continue
        seen.add(expression)
        kept.append(j)
    return kept


def _prune_terms(
    head: Head, H_train: np.ndarray, split: Split, H_val: np.ndarray, tol: float
) -> Head:
    """Drop terms (smallest contribution first) while validation loss allows."""
    loss = relative_error(head.predict(H_val), split.y_val, split.w_val)
    contributions = [
        abs(float(c)) * float(np.std(H_train[:, j], dtype=np.float64))
        for j, c in zip(head.columns, head.coefficients, strict=True)
    ]
    for _, column in sorted(zip(contributions, head.columns, strict=True)):
        kept = [c for c in head.columns if c != column]
        trial = _least_squares(H_train, split.y_train, kept, split.w_train)
        trial_loss = relative_error(trial.predict(H_val), split.y_val, split.w_val)
        if trial_loss <= loss_limit(loss, tol):
            head, loss = trial, trial_loss
    return head


def _simplify_constants(
    head: Head,
    H_val: np.ndarray,
    split: Split,
    tol: float,
    symbolic: bool | None = None,
) -> Head:
    """Replace constants by simple exact numbers where validation allows.

    Two passes share one bound on the loss, set by the unsimplified head, so
    successive replacements cannot compound. The first replaces each constant
    by 0 or by a simple number within ``1e-6`` of it (exact data). The second,
    tried only for a head that fits well, matches the remaining floats within
    1% (noisy data: a fitted ``1.0017`` becomes ``1`` when the validation
    error barely moves) and is all or nothing: a formula that mixes fitted
    floats with loosely matched multiples of pi is less readable than either,
    and a true law under noise has every constant matched.
    """
    rows = _Rows(H_val, split.y_val, split.w_val)
    loss = rows.loss(head)
    limit = loss_limit(loss, tol)
    loosely = bool(symbolic)  # the caller judged the fit within the noise
    if symbolic is None:
        symbolic = symbolic_fit(head.predict(H_val), rows.y, rows.weights)
        loosely = symbolic and loss <= LOOSE_MATCH_MAX_LOSS
    if not symbolic:
        zero, _ = _replace_constants(head, rows, limit, _zero_only)
        return zero  # an approximation: its constants stay decimals
    head, _ = _replace_constants(head, rows, limit, exact_replacements)
    if not loosely:
        return head
    loose, complete = _replace_constants(head, rows, limit, loose_replacements)
    return loose if complete else head


@dataclass(frozen=True)
class _Rows:
    """The rows a head is judged on: features, targets and weights."""

    H: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None

    def loss(self, head: Head) -> float:
        return relative_error(head.predict(self.H), self.y, self.weights)


def _replace_constants(
    head: Head,
    rows: _Rows,
    limit: float,
    replacements: Callable[[float], list[sympy.Expr]],
) -> tuple[Head, bool]:
    """Replace each float constant by its first replacement within ``limit``.

    Returns the new head and whether every float constant was replaced.
    """
    complete = True
    for slot in [*range(len(head.coefficients)), -1]:
        value = head.intercept if slot == -1 else head.coefficients[slot]
        if not isinstance(value, float):
            continue  # already exact
        for exact in replacements(value):
            trial = Head(head.columns, list(head.coefficients), head.intercept)
            if slot == -1:
                trial.intercept = exact
            else:
                trial.coefficients[slot] = exact
            if rows.loss(trial) <= limit:
                head = trial
                break
        else:
            complete = False
    return head, complete


#: The second pass runs only when the head's relative validation error is at
#: most this (the estimator's threshold for a poor fit): the constants of a
#: wrong structure are compromises, not estimates of simple numbers.
LOOSE_MATCH_MAX_LOSS = POOR_FIT_LOSS


def symbolic_fit(
    prediction: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> bool:
    """Whether a fit is close enough for its constants to become exact numbers.

    Its mean squared error must be at most :data:`SYMBOLIC_MAX_ERROR` of the
    target's mean square (exact data, or a true law under noise of a few
    percent); otherwise a matched ``pi`` or ``e`` would dress up an
    approximation. Both means are weighted by ``weights`` when given.
    """
    scale = weighted_mean(y**2, weights)
    error = weighted_mean((prediction - y) ** 2, weights)
    return bool(np.isfinite(error)) and error <= SYMBOLIC_MAX_ERROR * scale


def _zero_only(value: float) -> list[sympy.Expr]:
    """Zero: dropping a negligible term keeps an approximation honest."""
    return [sympy.Integer(0)]


def _assume_observed_signs(
    expression: sympy.Expr, symbols: Sequence[sympy.Symbol], X: np.ndarray
) -> sympy.Expr:
    """Resolve sign cases for features that were positive in every training row.

    Fractional powers of a real input are emitted with an explicit branch for
    negative values; on a feature never seen non-positive, that branch is moot,
    so ``x**(1/2)`` is kept as ``sqrt(x)``.
    """
    positive = {
        symbol: sympy.Dummy(str(symbol), positive=True)
        for symbol, column in zip(symbols, X.T, strict=True)
        if np.all(column > 0)
    }
    if not positive:
        return expression
    # xreplace rebuilds each node, so Piecewise conditions on the positive
    # dummies evaluate and their branches collapse; subs would also do that
    # but tries to simplify along the way, which took minutes on 9 features.
    refined = expression.xreplace(positive)
    return refined.xreplace({dummy: symbol for symbol, dummy in positive.items()})


def _hidden_expressions(
    records: Sequence[SnappedUnit], symbols: Sequence[sympy.Symbol], X: np.ndarray
) -> list[sympy.Expr]:
    """Read the body's outputs off its pruned graph as expressions."""
    if not records:
        return list(symbols)
    hidden = emit(prune(build_graph(records, len(symbols))), symbols)
    return [_assume_observed_signs(e, symbols, X) for e in hidden]


def _emit_formula(
    records: Sequence[SnappedUnit],
    head: Head,
    n_hidden: int,
    symbols: Sequence[sympy.Symbol],
    split: Split,
    deadline: float | None = None,
) -> sympy.Expr:
    """Emit body plus head from one pruned graph, then simplify with a value check.

    Hidden units whose head coefficient is zero have no edge to the output, so
    pruning removes them and everything that only they used. Past
    ``deadline`` the formula is returned unsimplified.
    """
    weights: list[Number] = [Fraction(0)] * n_hidden
    for column, coefficient in zip(head.columns, head.coefficients, strict=True):
        weights[column] = coefficient
    head_record = SnappedUnit(
        "head",
        n_hidden,
        (LinearOutput(LinearCombination(tuple(weights), head.intercept)),),
        0.0,
    )
    graph = prune(build_graph([*records, head_record], len(symbols)))
    (expression,) = emit(graph, symbols)
    expression = _assume_observed_signs(expression, symbols, split.X_train)
    return simplify_checked(
        expression, symbols, split.X_val[:CHECK_ROWS], deadline=deadline
    )


def extract_candidate(
    records: Sequence[SnappedUnit],
    symbols: Sequence[sympy.Symbol],
    split: Split,
    *,
    architecture: str,
    width: int,
    seed: int | None,
    tol: float,
    deadline: float | None = None,
) -> Candidate | None:
    """Turn a snapped body into a candidate formula with a refitted linear head.

    Parameters
    ----------
    records : sequence of SnappedUnit
        The snapped body, in stack order (empty for a plain linear model).
    symbols : sequence of sympy.Symbol
        One symbol per feature.
    split : Split
        Raw (unscaled) training and validation data.
    architecture : str
        Name of the body family, recorded on the candidate.
    width : int
        Hidden width, recorded on the candidate.
    seed : int or None
        Training seed, recorded on the candidate.
    tol : float
        Relative validation loss at or below which a formula counts as exact;
        pruning and constant simplification may always degrade the loss up to it.
    deadline : float or None, default=None
        A time on the :func:`time.perf_counter` clock (the search's
        ``max_time``) after which no simplification step starts: the formula
        is then kept as emitted, equal in value but perhaps longer.

    Returns
    -------
    Candidate or None
        ``None`` when the body produces no usable feature.
    """
    expressions = _hidden_expressions(records, symbols, split.X_train)
    H_train = hidden_features(records, split.X_train)
    H_val = hidden_features(records, split.X_val)
    columns = _distinct_columns(expressions, H_train)
    columns = [j for j in columns if np.all(np.isfinite(H_val[:, j]))]
    head = fit_head(H_train, H_val, split, columns, tol)
    expression = _emit_formula(
        records, head, H_train.shape[1], symbols, split, deadline
    )
    return Candidate(
        expression=expression,
        complexity=expression_complexity(expression),
        train_loss=relative_error(head.predict(H_train), split.y_train, split.w_train),
        validation_loss=relative_error(head.predict(H_val), split.y_val, split.w_val),
        architecture=architecture,
        width=width,
        seed=seed,
    )

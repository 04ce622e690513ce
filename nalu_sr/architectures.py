"""Named network bodies the regressor searches over, and their initialisations.

A body maps the (scaled) inputs to hidden features; the regressor puts a
linear head on top whose weights are solved by least squares, so a body only
has to find the *structure* (which sums, products and powers) while the
constants come out of linear algebra.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import torch

from nalu_sr.linalg import least_squares_torch
from nalu_sr.model import StackedModel
from nalu_sr.primitives import ARITHMETIC_PRIMITIVES, PrimitiveSet
from nalu_sr.units import (
    NALU,
    NAU,
    NMU,
    ArithmeticUnit,
    PrimitiveAttention,
    RealNPU,
    functional,
)
from nalu_sr.wide import SumPower, sum_power_starts

_MAX_FEATURES_FOR_PAIRS = 12


@dataclass(frozen=True)
class BuildContext:
    """What a body builder may use; each builder reads only what it needs.

    Attributes
    ----------
    n_features : int
        Number of inputs of the body.
    width : int
        Hidden width.
    generator : torch.Generator
        Source of the random initialisation.
    primitives : PrimitiveSet or None, default=None
        Primitives of an attention body (``None``: the arithmetic ones).
    """

    n_features: int
    width: int
    generator: torch.Generator
    primitives: PrimitiveSet | None = None


BodyBuilder = Callable[[BuildContext], StackedModel]


@dataclass(frozen=True)
class Architecture:
    """A family of network bodies.

    Attributes
    ----------
    name : str
        Registry name.
    description : str
        The formulas the family can express.
    build : callable
        ``build(context) -> StackedModel`` for a :class:`BuildContext`.
    default_widths : tuple of int
        Hidden widths tried by default, smallest first.
    """

    name: str
    description: str
    build: BodyBuilder
    default_widths: tuple[int, ...]


def _power(context: BuildContext) -> StackedModel:
    unit = RealNPU(context.n_features, context.width, generator=context.generator)
    with torch.no_grad():
        unit.gate.fill_(1.0)  # every input starts relevant: exact x**e from step 0
    return StackedModel([unit])


def _sum_power(context: BuildContext) -> StackedModel:
    g = context.generator
    power = RealNPU(context.width, 1, generator=g)
    with torch.no_grad():
        power.gate.fill_(1.0)
    return StackedModel([NAU(context.n_features, context.width, generator=g), power])


def _sum_product(context: BuildContext) -> StackedModel:
    g = context.generator
    return StackedModel(
        [
            NAU(context.n_features, context.width, generator=g),
            NMU(context.width, 1, generator=g),
        ]
    )


def _nalu(context: BuildContext) -> StackedModel:
    g = context.generator
    return StackedModel(
        [
            NALU(context.n_features, context.width, generator=g),
            NALU(context.width, 1, generator=g),
        ]
    )


def _attention(context: BuildContext) -> StackedModel:
    primitives = (
        ARITHMETIC_PRIMITIVES if context.primitives is None else context.primitives
    )
    unit = PrimitiveAttention(
        context.n_features,
        context.width,
        primitives=primitives,
        generator=context.generator,
    )
    return StackedModel([unit])


#: Architectures by name.
ARCHITECTURES: MappingProxyType[str, Architecture] = MappingProxyType(
    {
        arch.name: arch
        for arch in (
            Architecture(
                "power",
                "c0 + sum_j c_j prod_i x_i**e_ji (RealNPU -> linear)",
                _power,
                (1, 2, 3),
            ),
            Architecture(
                "sum-power",
                "c0 + c1 * prod_j (sum_i w_ji x_i)**e_j (NAU -> RealNPU -> linear)",
                _sum_power,
                (2,),
            ),
            Architecture(
                "sum-product",
                "c0 + c1 * prod_j (sum_i w_ji x_i) (NAU -> NMU -> linear)",
                _sum_product,
                (2,),
            ),
            Architecture(
                "nalu",
                "the paper's two stacked NALUs (NALU -> NALU -> linear)",
                _nalu,
                (2,),
            ),
            Architecture(
                "attention",
                "c0 + sum_j c_j p_j(combinations of x) (PrimitiveAttention -> linear)",
                _attention,
                (1, 2),
            ),
        )
    }
)

#: The family of function terms (:mod:`nalu_sr.functions`): not a trained body
#: but a search of its own, run after the bodies when none was exact.
FUNCTIONS = "functions"

#: Every family name ``architectures`` accepts.
FAMILY_NAMES: tuple[str, ...] = (*ARCHITECTURES, FUNCTIONS)

#: Architectures searched by default.
DEFAULT_ARCHITECTURES: tuple[str, ...] = ("power", "sum-power", FUNCTIONS)


#: Families whose bodies start from the best body one width smaller (the
#: ``previous`` argument of :func:`data_driven_init_`); a search runs such an
#: entry only after the smaller ones before it in its plan.
GROWS_FROM_SMALLER: frozenset[str] = frozenset({"power"})


def data_driven_init_(
    body: StackedModel,
    architecture: str,
    X: torch.Tensor,
    y: torch.Tensor,
    restart: int,
    previous: StackedModel | None = None,
    weights: torch.Tensor | None = None,
) -> None:
    """Seed a body from the data and from smaller solutions instead of at random.

    ``"power"`` family, restart ``r``: the first units copy ``previous`` (the
    best snapped body one width smaller), or, at width 1, the least-squares fit
    of ``log|y|`` on ``log|x|`` (exact for a single monomial); the one new unit
    starts on input ``r`` alone. Without ``previous`` at a larger width, units
    start on single inputs.
    ``"sum-power"`` and ``"sum-product"`` families, restart ``r``: on wide
    data whose target is a function of a few sums of many inputs (see
    :mod:`nalu_sr.wide`), the hidden sums and the exponents start on the
    ``r``-th best product of powers of such sums (for ``"sum-product"``, of
    those it can express). Otherwise the first hidden sum starts on input
    ``r`` alone and the second on all other inputs, the pattern of
    ``x0 / (x1 + x2)`` or ``(x0 + x1) * x2``, and the power unit of
    ``"sum-power"`` starts on the exponents that best fit ``y`` from those
    sums. Other families keep their random initialisation.

    Parameters
    ----------
    body : StackedModel
        A freshly built body.
    architecture : str
        Its family name.
    X : torch.Tensor
        Scaled inputs, shape ``(n, n_features)``.
    y : torch.Tensor
        Targets, shape ``(n,)``.
    restart : int
        Index of the restart within its (family, width) group.
    previous : StackedModel or None, default=None
        Best snapped body of the same family one width smaller.
    weights : torch.Tensor or None, default=None
        Row weights (``sample_weight``) of the fits that choose the start.
    """
    if architecture == "power":
        _init_power(body, X, y, restart, previous, weights)
    elif architecture in ("sum-power", "sum-product"):
        if _init_wide_sums(body, X, y, restart):
            return
        _init_sums(body, X.shape[1], restart)
        if architecture == "sum-power":
            _init_power_of_sums(body, X, y, weights)


def _init_power(
    body: StackedModel,
    X: torch.Tensor,
    y: torch.Tensor,
    restart: int,
    previous: StackedModel | None,
    weights: torch.Tensor | None = None,
) -> None:
    unit = body.arithmetic_units()[0]
    assert isinstance(unit, RealNPU)
    n_units = unit.out_features
    rows: list[torch.Tensor] = []
    if previous is not None:
        (old,) = previous.arithmetic_units()
        assert isinstance(old, RealNPU)
        rows = list(old.snapped_exponents().detach()[: n_units - 1])
    while len(rows) < n_units:
        # The last term takes the restart-th best candidate, earlier ones the best.
        rank = restart if len(rows) == n_units - 1 else 0
        extra = [_log_log_exponents(X, y, weights)]
        ranked = _ranked_terms(X, y, rows, extra, weights)
        rows.append(ranked[rank % len(ranked)])
    with torch.no_grad():
        unit.real_weight.copy_(torch.stack(rows).to(unit.real_weight))


def _term_dictionary(n_features: int, dtype: torch.dtype) -> list[torch.Tensor]:
    """List simple exponent vectors: powers of one input, products/ratios of two."""
    terms = []
    for i in range(n_features):
        for power in (1.0, -1.0, 2.0, 0.5, -2.0, -0.5):
            term = torch.zeros(n_features, dtype=dtype)
            term[i] = power
            terms.append(term)
    if n_features <= _MAX_FEATURES_FOR_PAIRS:
        for i, j in itertools.combinations(range(n_features), 2):
            for a, b in ((1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)):
                term = torch.zeros(n_features, dtype=dtype)
                term[i], term[j] = a, b
                terms.append(term)
    return terms


def _monomials(X: torch.Tensor, exponents: torch.Tensor) -> torch.Tensor:
    """Evaluate monomials (one per row of ``exponents``) as a RealNPU does."""
    gate = torch.ones(X.shape[1], dtype=X.dtype)
    return functional.power_product(X, exponents, gate)


def _ranked_terms(
    X: torch.Tensor,
    y: torch.Tensor,
    fixed: list[torch.Tensor],
    extra: list[torch.Tensor],
    weights: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """Rank dictionary and ``extra`` terms by their fit of ``y`` beside ``fixed``."""
    dictionary = [*extra, *_term_dictionary(X.shape[1], X.dtype)]
    base = list(_monomials(X, torch.stack(fixed)).T) if fixed else []
    candidates = _monomials(X, torch.stack(dictionary))
    scores = [
        _fit_error(torch.stack([*base, column], dim=1), y, weights)
        for column in candidates.T
    ]
    order = sorted(range(len(dictionary)), key=lambda k: (scores[k], k))
    return [dictionary[k] for k in order]


def _fit_error(
    features: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None
) -> float:
    """Mean squared error of the least-squares fit of ``y``; inf if not finite."""
    if not torch.isfinite(features).all():
        return math.inf
    coefficients, intercept = least_squares_torch(features, y, weights)
    squares = (features @ coefficients + intercept - y) ** 2
    if weights is None:
        return float(torch.mean(squares))
    return float(torch.sum(weights * squares) / torch.sum(weights))


def _init_power_of_sums(
    body: StackedModel,
    X: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> None:
    """Start the power unit on the exponents that best fit ``y`` from the sums."""
    first, power = body.arithmetic_units()
    assert isinstance(power, RealNPU)
    with torch.no_grad():
        sums = first(X)
        extra = [_log_log_exponents(sums, y, weights)]
        ranked = _ranked_terms(sums, y, [], extra, weights)
        power.real_weight.copy_(ranked[0].unsqueeze(0))


def _init_sums(body: StackedModel, n_features: int, restart: int) -> None:
    first = body.arithmetic_units()[0]
    assert isinstance(first, NAU)
    if first.out_features < 2 or n_features < 2:
        return
    single = torch.zeros(n_features, dtype=first.weight.dtype)
    single[restart % n_features] = 1.0
    with torch.no_grad():
        first.weight.zero_()
        first.weight[0] = single
        first.weight[1] = 1.0 - single


def _log_log_exponents(
    X: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Fit ``log|y| ~ c + sum_i e_i log|x_i|``; return ``e`` clipped to [-3, 3]."""
    tiny = torch.finfo(X.dtype).tiny
    solution, _ = least_squares_torch(
        torch.log(X.abs() + tiny), torch.log(y.abs() + tiny), weights
    )
    finite = torch.where(torch.isfinite(solution), solution, torch.zeros_like(solution))
    return finite.clamp(-3.0, 3.0)


def _init_wide_sums(
    body: StackedModel, X: torch.Tensor, y: torch.Tensor, restart: int
) -> bool:
    """Start a sum body on the ``restart``-th best product of sums of many inputs.

    Returns whether it did: ``False`` when the data are not wide (see
    :func:`nalu_sr.wide.sum_power_starts`) or the body cannot express any
    ranked product (more sums than hidden units, or a power an NMU lacks).
    """
    first, second = body.arithmetic_units()
    assert isinstance(first, NAU)
    starts = [
        start
        for start in sum_power_starts(
            X.detach().cpu().double().numpy(), y.detach().cpu().double().numpy()
        )
        if len(start.sums) <= first.out_features
        and (isinstance(second, RealNPU) or _products_only(start))
    ]
    if not starts:
        return False
    _set_sum_power(first, second, starts[restart % len(starts)])
    return True


def _set_sum_power(first: NAU, second: ArithmeticUnit, start: SumPower) -> None:
    """Set the sums on the NAU's first rows and their powers on the second unit.

    Unused hidden sums are zero and left out of the product (gate 0 or NMU
    weight 0).
    """
    weights = torch.zeros_like(first.weight)
    exponents = torch.zeros(second.in_features, dtype=weights.dtype)
    for k, (vector, exponent) in enumerate(
        zip(start.sums, start.exponents, strict=True)
    ):
        weights[k] = torch.as_tensor(vector).to(weights)
        exponents[k] = exponent
    with torch.no_grad():
        first.weight.copy_(weights)
        if isinstance(second, RealNPU):
            second.real_weight.copy_(exponents.unsqueeze(0))
            second.gate.copy_((exponents != 0).to(second.gate))
        elif isinstance(second, NMU):
            second.weight.copy_(exponents.unsqueeze(0))


def _products_only(start: SumPower) -> bool:
    """Whether an NMU expresses the product: every exponent is 1."""
    return all(exponent == 1.0 for exponent in start.exponents)

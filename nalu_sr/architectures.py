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
from nalu_sr.units import NALU, NAU, NMU, PrimitiveAttention, RealNPU, functional

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
) -> None:
    """Seed a body from the data and from smaller solutions instead of at random.

    ``"power"`` family, restart ``r``: the first units copy ``previous`` (the
    best snapped body one width smaller), or, at width 1, the least-squares fit
    of ``log|y|`` on ``log|x|`` (exact for a single monomial); the one new unit
    starts on input ``r`` alone. Without ``previous`` at a larger width, units
    start on single inputs.
    ``"sum-power"`` and ``"sum-product"`` families, restart ``r``: the first
    hidden sum starts on input ``r`` alone and the second on all other inputs,
    the pattern of ``x0 / (x1 + x2)`` or ``(x0 + x1) * x2``; the power unit of
    ``"sum-power"`` starts on the exponents that best fit ``y`` from those sums.
    Other families keep their random initialisation.

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
    """
    if architecture == "power":
        _init_power(body, X, y, restart, previous)
    elif architecture in ("sum-power", "sum-product"):
        _init_sums(body, X.shape[1], restart)
        if architecture == "sum-power":
            _init_power_of_sums(body, X, y)


def _init_power(
    body: StackedModel,
    X: torch.Tensor,
    y: torch.Tensor,
    restart: int,
    previous: StackedModel | None,
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
        ranked = _ranked_terms(X, y, rows, extra=[_log_log_exponents(X, y)])
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
) -> list[torch.Tensor]:
    """Rank dictionary and ``extra`` terms by their fit of ``y`` beside ``fixed``."""
    dictionary = [*extra, *_term_dictionary(X.shape[1], X.dtype)]
    base = list(_monomials(X, torch.stack(fixed)).T) if fixed else []
    candidates = _monomials(X, torch.stack(dictionary))
    scores = [
        _fit_error(torch.stack([*base, column], dim=1), y) for column in candidates.T
    ]
    order = sorted(range(len(dictionary)), key=lambda k: (scores[k], k))
    return [dictionary[k] for k in order]


def _fit_error(features: torch.Tensor, y: torch.Tensor) -> float:
    """Mean squared error of the least-squares fit of ``y``; inf if not finite."""
    if not torch.isfinite(features).all():
        return math.inf
    coefficients, intercept = least_squares_torch(features, y)
    return float(torch.mean((features @ coefficients + intercept - y) ** 2))


def _init_power_of_sums(body: StackedModel, X: torch.Tensor, y: torch.Tensor) -> None:
    """Start the power unit on the exponents that best fit ``y`` from the sums."""
    first, power = body.arithmetic_units()
    assert isinstance(power, RealNPU)
    with torch.no_grad():
        sums = first(X)
        ranked = _ranked_terms(sums, y, [], extra=[_log_log_exponents(sums, y)])
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


def _log_log_exponents(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fit ``log|y| ~ c + sum_i e_i log|x_i|``; return ``e`` clipped to [-3, 3]."""
    tiny = torch.finfo(X.dtype).tiny
    solution, _ = least_squares_torch(
        torch.log(X.abs() + tiny), torch.log(y.abs() + tiny)
    )
    finite = torch.where(torch.isfinite(solution), solution, torch.zeros_like(solution))
    return finite.clamp(-3.0, 3.0)

"""Named network bodies the regressor searches over, and their initialisations.

A body maps the (scaled) inputs to hidden features; the regressor puts a
linear head on top whose weights are solved by least squares, so a body only
has to find the *structure* (which sums, products and powers) while the
constants come out of linear algebra.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import torch

from nalu_sr.model import StackedModel
from nalu_sr.primitives import PrimitiveSet
from nalu_sr.units import NALU, NAU, NMU, PrimitiveAttention, RealNPU

BodyBuilder = Callable[[int, int, PrimitiveSet, torch.Generator], StackedModel]


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
        ``build(n_features, width, primitives, generator) -> StackedModel``.
    default_widths : tuple of int
        Hidden widths tried by default, smallest first.
    """

    name: str
    description: str
    build: BodyBuilder
    default_widths: tuple[int, ...]


def _power(n: int, width: int, _: PrimitiveSet, g: torch.Generator) -> StackedModel:
    unit = RealNPU(n, width, generator=g)
    with torch.no_grad():
        unit.gate.fill_(1.0)  # every input starts relevant: exact x**e from step 0
    return StackedModel([unit])


def _sum_power(n: int, width: int, _: PrimitiveSet, g: torch.Generator) -> StackedModel:
    power = RealNPU(width, 1, generator=g)
    with torch.no_grad():
        power.gate.fill_(1.0)
    return StackedModel([NAU(n, width, generator=g), power])


def _sum_product(
    n: int, width: int, _: PrimitiveSet, g: torch.Generator
) -> StackedModel:
    return StackedModel([NAU(n, width, generator=g), NMU(width, 1, generator=g)])


def _nalu(n: int, width: int, _: PrimitiveSet, g: torch.Generator) -> StackedModel:
    return StackedModel([NALU(n, width, generator=g), NALU(width, 1, generator=g)])


def _attention(
    n: int, width: int, primitives: PrimitiveSet, g: torch.Generator
) -> StackedModel:
    return StackedModel(
        [PrimitiveAttention(n, width, primitives=primitives, generator=g)]
    )


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

#: Architectures searched by default.
DEFAULT_ARCHITECTURES: tuple[str, ...] = ("power", "sum-power")


def data_driven_init_(
    body: StackedModel,
    architecture: str,
    X: torch.Tensor,
    y: torch.Tensor,
    restart: int,
) -> None:
    """Seed a body's first restarts from the data instead of at random.

    For the ``"power"`` family, restart 0 sets the first unit's exponents to the
    least-squares fit of ``log|y|`` on ``log|x|`` (exact for a single monomial)
    and the other units to single inputs; restart 1 sets every unit to a single
    input (exact for sums of inputs). Later restarts and other families keep
    their random initialisation.

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
    """
    if architecture != "power" or restart > 1:
        return
    unit = body.arithmetic_units()[0]
    assert isinstance(unit, RealNPU)
    n_features = X.shape[1]
    exponents = torch.zeros_like(unit.real_weight)
    for j in range(exponents.shape[0]):
        exponents[j, (j - 1 + restart) % n_features] = 1.0
    if restart == 0:
        exponents[0] = _log_log_exponents(X, y)
    with torch.no_grad():
        unit.real_weight.copy_(exponents)


def _log_log_exponents(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fit ``log|y| ~ c + sum_i e_i log|x_i|``; return ``e`` clipped to [-3, 3]."""
    tiny = torch.finfo(X.dtype).tiny
    design = torch.cat([torch.log(X.abs() + tiny), torch.ones_like(X[:, :1])], dim=1)
    target = torch.log(y.abs() + tiny).unsqueeze(1)
    solution = torch.linalg.lstsq(design, target).solution[:-1, 0]
    finite = torch.where(torch.isfinite(solution), solution, torch.zeros_like(solution))
    return finite.clamp(-3.0, 3.0)

"""Neural Multiplication Unit (Madsen & Johansen 2020)."""

from __future__ import annotations

import torch
from torch import nn

from nalu_sr.units import functional as F
from nalu_sr.units._base import ClampedWeightUnit, fractions_of
from nalu_sr.units.snapped import ProductOutput, SnappedUnit


class NMU(ClampedWeightUnit):
    """Neural Multiplication Unit: ``y_j = prod_i (W_ji x_i + 1 - W_ji)``.

    ``W_ji = 1`` passes input ``i`` into the product and ``W_ji = 0`` replaces
    it by the multiplicative identity. There is no logarithm, so negative and
    zero inputs are fine; division is not representable, by design.

    Parameters
    ----------
    in_features : int
        Number of inputs.
    out_features : int
        Number of outputs.
    generator : torch.Generator or None, default=None
        Source of randomness for the initial parameters.

    Notes
    -----
    Madsen & Johansen 2020, arXiv 2001.05016. ``W`` is clamped to [0, 1] in the
    forward pass and after each step; initialisation ``U[0.25, 0.75]`` (their
    code); regulariser ``mean(min(W, 1 - W))``.

    Examples
    --------
    >>> import torch
    >>> from nalu_sr import NMU
    >>> unit = NMU(2, 1)
    >>> with torch.no_grad():
    ...     _ = unit.weight.fill_(1.0)
    >>> unit(torch.tensor([[-3.0, 4.0]]))
    tensor([[-12.]], grad_fn=<ProdBackward1>)
    """

    kind = "nmu"
    weight_range = (0.0, 1.0)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(in_features, out_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw ``W ~ U[0.25, 0.75]``."""
        F.uniform_(self.weight, 0.25, 0.75, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the gated product for inputs of shape ``(..., in_features)``."""
        return F.nmu_product(x, self.clamped_weight())

    def penalty(self) -> torch.Tensor:
        """Return ``mean(min(W, 1 - W))``."""
        return F.unsigned_sparsity_penalty(self.clamped_weight())

    def snap(self, reference_inputs: torch.Tensor | None = None) -> SnappedUnit:
        """Return each output as the product of the inputs whose weight rounds to 1."""
        outputs = tuple(
            ProductOutput(fractions_of(row), signed=True)
            for row in self.clamped_weight().detach()
        )
        return SnappedUnit(
            self.kind, self.in_features, outputs, self.discreteness_error()
        )

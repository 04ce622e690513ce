"""Neural Addition Unit (Madsen & Johansen 2020)."""

from __future__ import annotations

import torch
from torch import nn

from nalu_sr.units import functional as F
from nalu_sr.units._base import ClampedWeightUnit, linear_snap
from nalu_sr.units.snapped import SnappedUnit


class NAU(ClampedWeightUnit):
    """Neural Addition Unit: ``y = W x`` with ``W`` clamped to [-1, 1].

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
    Madsen & Johansen 2020, "Neural Arithmetic Units", ICLR, arXiv 2001.05016.
    The weight is clamped in the forward pass and, through :meth:`constrain_`,
    after every optimiser step. Initialisation ``W ~ U[-r, r]`` with
    ``r = min(0.5, sqrt(6 / (fan_in + fan_out)))``. Regulariser
    ``mean(min(|W|, 1 - |W|))``, to be ramped up during training.

    Examples
    --------
    >>> import torch
    >>> from nalu_sr import NAU
    >>> unit = NAU(2, 1)
    >>> with torch.no_grad():
    ...     _ = unit.weight.copy_(torch.tensor([[1.0, -1.0]]))
    >>> unit(torch.tensor([[5.0, 3.0]]))
    tensor([[2.]], grad_fn=<MmBackward0>)
    """

    kind = "nau"
    weight_range = (-1.0, 1.0)

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
        """Draw ``W ~ U[-r, r]`` with the NAU bound."""
        bound = F.nau_init_bound(self.in_features, self.out_features)
        F.uniform_(self.weight, -bound, bound, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``clamp(W, -1, 1) x`` for inputs of shape ``(..., in_features)``."""
        return x @ self.clamped_weight().transpose(0, 1)

    def penalty(self) -> torch.Tensor:
        """Return ``mean(min(|W|, 1 - |W|))``."""
        return F.signed_sparsity_penalty(self.clamped_weight())

    def snap(self, reference_inputs: torch.Tensor | None = None) -> SnappedUnit:
        """Return each output as a signed sum with weights rounded to {-1, 0, 1}."""
        return linear_snap(self.kind, self.weight, self.discreteness_error())

"""Neural Accumulator (Trask et al. 2018)."""

from __future__ import annotations

import torch
from torch import nn

from nalu_sr.units import functional as F
from nalu_sr.units._base import ArithmeticUnit, linear_snap, max_distance
from nalu_sr.units.snapped import SnappedUnit


class NAC(ArithmeticUnit):
    """Neural Accumulator: ``y = W x`` with ``W = tanh(W_hat) * sigmoid(M_hat)``.

    The weights lie in [-1, 1] and are meant to settle on {-1, 0, 1}, so the
    unit adds and subtracts its inputs without rescaling them.

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
    Trask et al. 2018, "Neural Arithmetic Logic Units", arXiv 1808.00508.
    Initialisation: ``W_hat, M_hat ~ U[-r, r]`` with ``r`` chosen so that
    ``Var[W] = 2 / (fan_in + fan_out)`` (Madsen & Johansen 2020, who fixed the
    protocol the NALU paper left open). The penalty is NAU's
    ``mean(min(|W|, 1 - |W|))``; the original NAC has none.

    Examples
    --------
    >>> import torch
    >>> from nalu_sr import NAC
    >>> unit = NAC(2, 1, generator=torch.Generator().manual_seed(0))
    >>> unit(torch.ones(5, 2)).shape
    torch.Size([5, 1])
    """

    kind = "nac"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(in_features, out_features)
        self.w_hat = nn.Parameter(torch.empty(out_features, in_features))
        self.m_hat = nn.Parameter(torch.empty(out_features, in_features))
        self.reset_parameters(generator)

    @property
    def weight(self) -> torch.Tensor:
        """The effective weight ``tanh(W_hat) * sigmoid(M_hat)``."""
        return F.nac_weight(self.w_hat, self.m_hat)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw ``W_hat`` and ``M_hat`` from the variance-matched uniform."""
        bound = F.nac_init_bound(self.in_features, self.out_features)
        F.uniform_(self.w_hat, -bound, bound, generator)
        F.uniform_(self.m_hat, -bound, bound, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``W x`` for inputs of shape ``(..., in_features)``."""
        return x @ self.weight.transpose(0, 1)

    def penalty(self) -> torch.Tensor:
        """Return ``mean(min(|W|, 1 - |W|))``."""
        return F.signed_sparsity_penalty(self.weight)

    def discreteness_error(self) -> float:
        """Return the largest distance of a weight from {-1, 0, 1}."""
        weight = self.weight
        return max_distance(weight, torch.round(weight))

    def snap(self, reference_inputs: torch.Tensor | None = None) -> SnappedUnit:
        """Return each output as a signed sum with weights rounded to {-1, 0, 1}."""
        return linear_snap(self.kind, self.weight, self.discreteness_error())

"""Neural Arithmetic Logic Unit (Trask et al. 2018)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from nalu_sr.units import functional as F
from nalu_sr.units._base import ArithmeticUnit, fractions_of, max_distance
from nalu_sr.units.snapped import (
    LinearCombination,
    LinearOutput,
    ProductOutput,
    SnappedOutput,
    SnappedUnit,
)

GateKind = Literal["input", "scalar"]


class NALU(ArithmeticUnit):
    """Neural Arithmetic Logic Unit: a gate between a NAC and a log-space NAC.

    ``a = W x``, ``m = exp(W log(|x| + eps))``, ``g = sigmoid(G x)`` and
    ``y = g * a + (1 - g) * m``, with ``W = tanh(W_hat) * sigmoid(M_hat)``.

    Parameters
    ----------
    in_features : int
        Number of inputs.
    out_features : int
        Number of outputs.
    eps : float, default=1e-7
        Added to ``|x|`` in the log-space path.
    gate : {"input", "scalar"}, default="input"
        ``"input"`` is the paper's input-dependent gate ``sigmoid(G x)``;
        ``"scalar"`` is one learned gate per output (iNALU), which cannot
        switch operation when inputs leave the training range.
    shared_weights : bool, default=True
        Whether the two paths share ``W`` (the paper's choice).
    generator : torch.Generator or None, default=None
        Source of randomness for the initial parameters.

    Notes
    -----
    Trask et al. 2018, arXiv 1808.00508. The multiplicative path sees only
    magnitudes, so its snapped meaning is a product of ``|x_i| ** w``.
    ``G`` is Xavier-uniform. The penalty (not in the paper) is the NAU
    sparsity of ``W`` plus ``g (1 - g)`` for a scalar gate.

    Examples
    --------
    >>> import torch
    >>> from nalu_sr import NALU
    >>> unit = NALU(2, 3, generator=torch.Generator().manual_seed(0))
    >>> unit(torch.rand(4, 2)).shape
    torch.Size([4, 3])
    """

    kind = "nalu"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        eps: float = F.NALU_EPS,
        gate: GateKind = "input",
        shared_weights: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(in_features, out_features)
        if gate not in ("input", "scalar"):
            raise ValueError(f"gate must be 'input' or 'scalar', got {gate!r}")
        self.eps = eps
        self.gate_kind = gate
        self.shared_weights = shared_weights
        shape = (out_features, in_features)
        n_paths = 1 if shared_weights else 2
        self.w_hat = nn.Parameter(torch.empty(n_paths, *shape))
        self.m_hat = nn.Parameter(torch.empty(n_paths, *shape))
        gate_shape = shape if gate == "input" else (out_features,)
        self.gate_weight = nn.Parameter(torch.empty(gate_shape))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw NAC weights (variance-matched) and the gate (Xavier-uniform)."""
        bound = F.nac_init_bound(self.in_features, self.out_features)
        F.uniform_(self.w_hat, -bound, bound, generator)
        F.uniform_(self.m_hat, -bound, bound, generator)
        gate_bound = F.glorot_bound(self.in_features, self.out_features)
        F.uniform_(self.gate_weight, -gate_bound, gate_bound, generator)

    @property
    def additive_weight(self) -> torch.Tensor:
        """Weight of the additive path."""
        return F.nac_weight(self.w_hat[0], self.m_hat[0])

    @property
    def multiplicative_weight(self) -> torch.Tensor:
        """Weight (exponents) of the log-space path."""
        return F.nac_weight(self.w_hat[-1], self.m_hat[-1])

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """Return the gate ``g`` (1 = additive path) for inputs ``x``."""
        if self.gate_kind == "scalar":
            return torch.sigmoid(self.gate_weight).expand(*x.shape[:-1], -1)
        return torch.sigmoid(x @ self.gate_weight.transpose(0, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``g * a + (1 - g) * m`` for inputs of shape ``(..., in_features)``."""
        additive = x @ self.additive_weight.transpose(0, 1)
        multiplicative = F.log_space_product(x, self.multiplicative_weight, self.eps)
        g = self.gate(x)
        return g * additive + (1.0 - g) * multiplicative

    def penalty(self) -> torch.Tensor:
        """Return the sparsity of both weights, plus ``g (1 - g)`` for scalar gates."""
        weight = torch.stack([self.additive_weight, self.multiplicative_weight])
        total = F.signed_sparsity_penalty(weight)
        if self.gate_kind == "scalar":
            g = torch.sigmoid(self.gate_weight)
            total = total + (g * (1.0 - g)).mean()
        return total

    def discreteness_error(self) -> float:
        """Return the largest distance of a weight (or scalar gate) from its snap.

        An input-dependent gate has no value without inputs, so only its
        weights are measured; :meth:`snap` decides it on reference inputs.
        """
        weight = torch.stack([self.additive_weight, self.multiplicative_weight])
        error = max_distance(weight, torch.round(weight))
        if self.gate_kind == "scalar":
            g = torch.sigmoid(self.gate_weight)
            error = max(error, max_distance(g, torch.round(g)))
        return error

    def snap(self, reference_inputs: torch.Tensor | None = None) -> SnappedUnit:
        """Choose each output's path by its mean gate and round its weights."""
        if self.gate_kind == "input" and reference_inputs is None:
            raise ValueError(
                "a NALU with an input-dependent gate needs reference_inputs to "
                "decide which path each output takes"
            )
        probe = (
            torch.zeros(1, self.in_features)
            if reference_inputs is None
            else (reference_inputs.reshape(-1, self.in_features))
        )
        with torch.no_grad():
            mean_gate = self.gate(probe.to(self.w_hat)).mean(dim=0)
        outputs: list[SnappedOutput] = []
        for j, gate_value in enumerate(mean_gate.tolist()):
            if gate_value >= 0.5:
                row = fractions_of(self.additive_weight[j].detach())
                outputs.append(LinearOutput(LinearCombination(row)))
            else:
                row = fractions_of(self.multiplicative_weight[j].detach())
                outputs.append(ProductOutput(row, signed=False))
        return SnappedUnit(
            self.kind, self.in_features, tuple(outputs), self.discreteness_error()
        )

    def extra_repr(self) -> str:
        """Describe the unit's sizes and options for ``repr``."""
        return (
            f"{super().extra_repr()}, eps={self.eps}, gate={self.gate_kind!r}, "
            f"shared_weights={self.shared_weights}"
        )

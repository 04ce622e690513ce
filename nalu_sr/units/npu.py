"""Neural Power Units: NPU and RealNPU (Heim, Pevný & Šmídl 2020)."""

from __future__ import annotations

import torch
from torch import nn

from nalu_sr.units import functional as F
from nalu_sr.units._base import ArithmeticUnit, fractions_of, max_distance
from nalu_sr.units.snapped import ProductOutput, SnappedUnit


class _PowerUnit(ArithmeticUnit):
    """Shared implementation of NPU (complex weights) and RealNPU (real only)."""

    _imaginary = False

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        exponent_denominator: int = 2,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(in_features, out_features)
        if isinstance(exponent_denominator, bool) or not (
            isinstance(exponent_denominator, int) and exponent_denominator >= 1
        ):
            raise ValueError(
                "exponent_denominator must be a positive int, "
                f"got {exponent_denominator!r}"
            )
        self.exponent_denominator = exponent_denominator
        self.real_weight = nn.Parameter(torch.empty(out_features, in_features))
        self.imaginary_weight = (
            nn.Parameter(torch.empty(out_features, in_features))
            if self._imaginary
            else None
        )
        self.gate = nn.Parameter(torch.empty(in_features))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw ``W_r`` Glorot-uniform; set ``W_i = 0`` and the gate to 0.5."""
        bound = F.glorot_bound(self.in_features, self.out_features)
        F.uniform_(self.real_weight, -bound, bound, generator)
        with torch.no_grad():
            if self.imaginary_weight is not None:
                self.imaginary_weight.zero_()
            self.gate.fill_(0.5)

    def clipped_gate(self) -> torch.Tensor:
        """Relevance gate clipped to [0, 1], with a straight-through gradient."""
        return F.straight_through_clamp(self.gate, 0.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the gated power product for inputs of shape ``(..., in_features)``."""
        return F.power_product(
            x, self.real_weight, self.clipped_gate(), self.imaginary_weight
        )

    def constrain_(self) -> None:
        """Clamp the relevance gate to [0, 1] in place."""
        with torch.no_grad():
            self.gate.clamp_(0.0, 1.0)

    def discrete_parameters(self) -> list[tuple[nn.Parameter, torch.Tensor]]:
        """Return exponents (to multiples), gate (to {0, 1}) and ``W_i`` (to 0)."""
        weight = self.real_weight.detach()
        pairs = [
            (self.real_weight, F.snap_to_multiples(weight, self.exponent_denominator)),
            (self.gate, torch.round(self.gate.detach().clamp(0.0, 1.0))),
        ]
        if self.imaginary_weight is not None:
            pairs.append((self.imaginary_weight, torch.zeros_like(weight)))
        return pairs

    def penalty(self) -> torch.Tensor:
        """Return the L1 norm (mean absolute value) of all parameters."""
        total = self.real_weight.abs().mean() + self.clipped_gate().abs().mean()
        if self.imaginary_weight is not None:
            total = total + self.imaginary_weight.abs().mean()
        return total

    def snapped_exponents(self) -> torch.Tensor:
        """Return exponents rounded to the snapping grid, 0 where gated off."""
        exponents = F.snap_to_multiples(self.real_weight, self.exponent_denominator)
        relevant = (self.gate.clamp(0.0, 1.0) >= 0.5).to(exponents.dtype)
        return exponents * relevant

    def discreteness_error(self) -> float:
        """Return the largest distance of an exponent, imaginary weight or gate.

        Exponents of irrelevant inputs (gate below 0.5) are not measured.
        """
        gate = self.gate.clamp(0.0, 1.0)
        relevant = gate >= 0.5
        exponents = self.real_weight[:, relevant]
        snapped = F.snap_to_multiples(exponents, self.exponent_denominator)
        error = max(max_distance(exponents, snapped), max_distance(gate, gate.round()))
        if self.imaginary_weight is not None:
            imaginary = self.imaginary_weight[:, relevant]
            error = max(error, max_distance(imaginary, torch.zeros_like(imaginary)))
        return error

    def snap(self, reference_inputs: torch.Tensor | None = None) -> SnappedUnit:
        """Return each output as a signed product of powers of relevant inputs."""
        exponents = self.snapped_exponents().detach()
        outputs = tuple(
            ProductOutput(fractions_of(row, self.exponent_denominator), signed=True)
            for row in exponents
        )
        return SnappedUnit(
            self.kind, self.in_features, outputs, self.discreteness_error()
        )

    def extra_repr(self) -> str:
        """Describe the unit's sizes and options for ``repr``."""
        return (
            f"{super().extra_repr()}, exponent_denominator={self.exponent_denominator}"
        )


class NPU(_PowerUnit):
    """Neural Power Unit with complex weights and a relevance gate.

    ``y = Re(exp(W log x))`` with ``W = W_r + i W_i`` and the complex logarithm
    ``log x = log r + i pi k``, where ``r = g|x| + 1 - g`` and ``k = g`` on
    negative inputs. A gate ``g_i = 0`` turns input ``i`` into the constant 1.

    Parameters
    ----------
    in_features : int
        Number of inputs.
    out_features : int
        Number of outputs.
    exponent_denominator : int, default=2
        Exponents snap to multiples of ``1 / exponent_denominator``.
    generator : torch.Generator or None, default=None
        Source of randomness for the initial parameters.

    Notes
    -----
    Heim, Pevný & Šmídl 2020, "Neural Power Units", NeurIPS, arXiv 2006.01681.
    Initialisation: ``W_r`` Glorot-uniform, ``W_i = 0``, gate 0.5. Penalty: L1.
    Snapping drops ``W_i`` (it should have been driven to 0) and irrelevant
    inputs.

    Examples
    --------
    >>> import torch
    >>> from nalu_sr import NPU
    >>> NPU(3, 2)(torch.rand(4, 3)).shape
    torch.Size([4, 2])
    """

    kind = "npu"
    _imaginary = True


class RealNPU(_PowerUnit):
    """Real Neural Power Unit: ``y_j = prod_i r_i ** W_ji * cos(pi W_ji k_i)``.

    With integer exponents the cosine is exactly the sign, so products and
    quotients of negative inputs come out with the right sign.

    Parameters
    ----------
    in_features : int
        Number of inputs.
    out_features : int
        Number of outputs.
    exponent_denominator : int, default=2
        Exponents snap to multiples of ``1 / exponent_denominator``.
    generator : torch.Generator or None, default=None
        Source of randomness for the initial parameters.

    Notes
    -----
    Heim, Pevný & Šmídl 2020, arXiv 2006.01681: the NPU without ``W_i``.

    Examples
    --------
    >>> import torch
    >>> from nalu_sr import RealNPU
    >>> unit = RealNPU(2, 1)
    >>> with torch.no_grad():
    ...     _ = unit.real_weight.copy_(torch.tensor([[1.0, -1.0]]))
    ...     _ = unit.gate.fill_(1.0)
    >>> round(float(unit(torch.tensor([[-6.0, 3.0]])).detach()), 6)
    -2.0
    """

    kind = "realnpu"

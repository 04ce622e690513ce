"""Attention over a set of primitive functions: the toolkit's central unit."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from typing import Literal

import torch
from torch import nn

from nalu_sr.primitives import ARITHMETIC_PRIMITIVES, Primitive, resolve_primitives
from nalu_sr.units import functional as F
from nalu_sr.units._base import ClampedWeightUnit, fractions_of, max_distance
from nalu_sr.units.snapped import (
    LinearCombination,
    Number,
    PrimitiveOutput,
    SnappedUnit,
)

Selection = Literal["softmax", "gumbel"]


class PrimitiveAttention(ClampedWeightUnit):
    """Each output attends over primitives applied to sparse input combinations.

    For output ``j`` and primitive ``p`` of arity ``k``, the unit forms ``k``
    argument combinations ``A_jpa = sum_i W_jpai x_i (+ b_jpa)`` with NAU-style
    weights in [-1, 1], applies the training-safe ``p`` to them, and mixes the
    primitives with attention ``softmax(logits_j / temperature)``:
    ``y_j = sum_p attention_jp * p(A_jp0, ..., A_jp(k-1))``.

    Snapping keeps the most attended primitive per output and rounds its
    argument weights to {-1, 0, 1}. The NALU's gate between adding and
    multiplying is the special case ``primitives=("identity", "mul")``.

    Parameters
    ----------
    in_features : int
        Number of inputs.
    out_features : int
        Number of outputs.
    primitives : iterable of str or Primitive, default=ARITHMETIC_PRIMITIVES
        Built-in names and/or custom primitives from :func:`make_primitive`.
    temperature : float, default=1.0
        Softmax temperature; lower is closer to a hard choice. Training may
        anneal it by assigning ``unit.temperature``.
    selection : {"softmax", "gumbel"}, default="softmax"
        ``"gumbel"`` adds Gumbel noise to the logits in training mode (a
        relaxed one-hot, drawn from torch's global generator); evaluation
        mode always uses the plain softmax.
    bias : bool, default=False
        Whether argument combinations have a learned constant offset.
    generator : torch.Generator or None, default=None
        Source of randomness for the initial parameters.

    Examples
    --------
    >>> import torch
    >>> from nalu_sr import PrimitiveAttention
    >>> unit = PrimitiveAttention(2, 3, primitives=("add", "mul", "sin"))
    >>> unit(torch.rand(5, 2)).shape
    torch.Size([5, 3])
    """

    kind = "attention"
    weight_range = (-1.0, 1.0)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        primitives: Iterable[str | Primitive] = ARITHMETIC_PRIMITIVES,
        temperature: float = 1.0,
        selection: Selection = "softmax",
        bias: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(in_features, out_features)
        if selection not in ("softmax", "gumbel"):
            raise ValueError(
                f"selection must be 'softmax' or 'gumbel', got {selection!r}"
            )
        self.primitives = resolve_primitives(primitives)
        self.temperature = temperature
        self.selection = selection
        shape = (out_features, len(self.primitives), self.primitives.max_arity)
        self.weight = nn.Parameter(torch.empty(*shape, in_features))
        self.bias = nn.Parameter(torch.empty(shape)) if bias else None
        self.logits = nn.Parameter(torch.empty(out_features, len(self.primitives)))
        self.reset_parameters(generator)

    @property
    def temperature(self) -> float:
        """Softmax temperature, a positive float."""
        return self._temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"temperature must be a positive number, got {value!r}")
        self._temperature = float(value)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw NAU-style argument weights; zero the logits and biases."""
        bound = F.nau_init_bound(self.in_features, self.primitives.max_arity)
        F.uniform_(self.weight, -bound, bound, generator)
        with torch.no_grad():
            self.logits.zero_()
            if self.bias is not None:
                self.bias.zero_()

    def attention(self) -> torch.Tensor:
        """Return the attention over primitives, shape ``(out, n_primitives)``."""
        logits: torch.Tensor = self.logits
        if self.training and self.selection == "gumbel":
            uniform = torch.rand_like(logits).clamp(1e-10, 1.0 - 1e-10)
            logits = logits - torch.log(-torch.log(uniform))
        return torch.softmax(logits / self.temperature, dim=-1)

    def primitive_values(self, x: torch.Tensor) -> torch.Tensor:
        """Return each primitive's value per output, shape ``(..., out, n_prim)``."""
        arguments = torch.einsum("...i,jpai->...jpa", x, self.clamped_weight())
        if self.bias is not None:
            arguments = arguments + self.bias
        values = [
            primitive.train_forward(
                *(arguments[..., p, a] for a in range(primitive.arity))
            )
            for p, primitive in enumerate(self.primitives)
        ]
        return torch.stack(values, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the attention-weighted mix of the primitives' values."""
        return (self.primitive_values(x) * self.attention()).sum(dim=-1)

    def penalty(self) -> torch.Tensor:
        """Return the normalised attention entropy plus the NAU weight sparsity."""
        probabilities = torch.softmax(self.logits / self.temperature, dim=-1)
        entropy = -(probabilities * torch.log(probabilities.clamp_min(1e-12))).sum(-1)
        n_primitives = len(self.primitives)
        normaliser = math.log(n_primitives) if n_primitives > 1 else 1.0
        sparsity = F.signed_sparsity_penalty(self.clamped_weight())
        return entropy.mean() / normaliser + sparsity

    def chosen(self) -> list[int]:
        """Return the index of the most attended primitive for each output."""
        return [int(i) for i in torch.argmax(self.logits, dim=-1)]

    def _used_weights(self, output: int, choice: int) -> torch.Tensor:
        """Argument weights the chosen primitive of one output actually reads."""
        arity = self.primitives[choice].arity
        return self.clamped_weight()[output, choice, :arity]

    def discreteness_error(self) -> float:
        """Return the largest distance from a one-hot choice or {-1, 0, 1} weight."""
        with torch.no_grad():
            probabilities = torch.softmax(self.logits / self.temperature, dim=-1)
            error = float((1.0 - probabilities.max(dim=-1).values).max())
            for output, choice in enumerate(self.chosen()):
                used = self._used_weights(output, choice)
                error = max(error, max_distance(used, torch.round(used)))
        return error

    def snap(self, reference_inputs: torch.Tensor | None = None) -> SnappedUnit:
        """Keep the most attended primitive per output and round its weights."""
        outputs = []
        for output, choice in enumerate(self.chosen()):
            primitive = self.primitives[choice]
            arguments = []
            for a, row in enumerate(self._used_weights(output, choice).detach()):
                offset: Number = Fraction(0)
                if self.bias is not None:
                    offset = float(self.bias[output, choice, a].detach())
                arguments.append(LinearCombination(fractions_of(row), offset))
            outputs.append(PrimitiveOutput(primitive, tuple(arguments)))
        return SnappedUnit(
            self.kind, self.in_features, tuple(outputs), self.discreteness_error()
        )

    def extra_repr(self) -> str:
        """Describe the unit's sizes and options for ``repr``."""
        return (
            f"{super().extra_repr()}, primitives={list(self.primitives.names)}, "
            f"temperature={self.temperature}, selection={self.selection!r}, "
            f"bias={self.bias is not None}"
        )

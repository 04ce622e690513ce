"""Pure tensor maths shared by the arithmetic units (no module state).

References: Trask et al. 2018 (NAC, NALU), Madsen & Johansen 2020 (NAU, NMU,
their initialisation and regulariser), Heim et al. 2020 (NPU, RealNPU).
"""

from __future__ import annotations

import math

import torch

#: The epsilon of the NALU log-space path (stable-nalu's default).
NALU_EPS = 1e-7


def nac_weight(w_hat: torch.Tensor, m_hat: torch.Tensor) -> torch.Tensor:
    """NAC weight ``tanh(w_hat) * sigmoid(m_hat)``, inside [-1, 1]."""
    return torch.tanh(w_hat) * torch.sigmoid(m_hat)


def log_space_product(
    x: torch.Tensor, weight: torch.Tensor, eps: float = NALU_EPS
) -> torch.Tensor:
    """NALU multiplicative path ``exp(W log(|x| + eps))``.

    Parameters
    ----------
    x : torch.Tensor
        Inputs of shape ``(..., in_features)``.
    weight : torch.Tensor
        Exponents of shape ``(out_features, in_features)``.
    eps : float, default=NALU_EPS
        Added to ``|x|`` before the logarithm.

    Returns
    -------
    torch.Tensor
        ``prod_i (|x_i| + eps) ** W_ji`` of shape ``(..., out_features)``.
    """
    return torch.exp(torch.log(torch.abs(x) + eps) @ weight.transpose(0, 1))


def nmu_product(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """NMU output ``prod_i (W_ji x_i + 1 - W_ji)`` of shape ``(..., out)``."""
    factors = weight * x.unsqueeze(-2) + 1.0 - weight
    return torch.prod(factors, dim=-1)


def power_product(
    x: torch.Tensor,
    real_weight: torch.Tensor,
    gate: torch.Tensor,
    imaginary_weight: torch.Tensor | None = None,
    eps: float = 1e-12,
) -> torch.Tensor:
    """NPU / RealNPU output with the relevance gate (Heim et al. 2020).

    Parameters
    ----------
    x : torch.Tensor
        Inputs of shape ``(..., in_features)``.
    real_weight : torch.Tensor
        Real exponents ``W_r`` of shape ``(out_features, in_features)``.
    gate : torch.Tensor
        Relevance gate ``g_hat`` in [0, 1], one per input.
    imaginary_weight : torch.Tensor or None, default=None
        Imaginary exponents ``W_i``; ``None`` gives the RealNPU.
    eps : float, default=1e-12
        Added to ``|x|`` so that the logarithm of an exact zero stays finite.

    Returns
    -------
    torch.Tensor
        ``Re(exp(W log r))`` of shape ``(..., out_features)`` where
        ``r = g|x| + 1 - g`` and the phase is ``pi * g`` on negative inputs.
    """
    magnitude = gate * (torch.abs(x) + eps) + 1.0 - gate
    phase = gate * (x < 0).to(x.dtype)
    log_r = torch.log(magnitude)
    modulus = log_r @ real_weight.transpose(0, 1)
    angle = math.pi * (phase @ real_weight.transpose(0, 1))
    if imaginary_weight is not None:
        modulus = modulus - math.pi * (phase @ imaginary_weight.transpose(0, 1))
        angle = angle + log_r @ imaginary_weight.transpose(0, 1)
    return torch.exp(modulus) * torch.cos(angle)


def signed_sparsity_penalty(weight: torch.Tensor) -> torch.Tensor:
    """Mean of ``min(|W|, 1 - |W|)``: zero exactly on {-1, 0, 1} (NAU)."""
    magnitude = torch.abs(weight)
    return torch.minimum(magnitude, 1.0 - magnitude).mean()


def unsigned_sparsity_penalty(weight: torch.Tensor) -> torch.Tensor:
    """Mean of ``min(W, 1 - W)``: zero exactly on {0, 1} (NMU, gates)."""
    return torch.minimum(weight, 1.0 - weight).mean()


def straight_through_clamp(
    values: torch.Tensor, low: float, high: float
) -> torch.Tensor:
    """Clamp in the forward pass, pass the gradient through unchanged."""
    return values + (values.clamp(low, high) - values).detach()


def snap_to_multiples(values: torch.Tensor, denominator: int) -> torch.Tensor:
    """Round each value to the nearest multiple of ``1 / denominator``."""
    return torch.round(values * denominator) / denominator


def glorot_bound(fan_in: int, fan_out: int) -> float:
    """Half-width of the Glorot-uniform distribution."""
    return math.sqrt(6.0 / (fan_in + fan_out))


def nau_init_bound(fan_in: int, fan_out: int) -> float:
    """NAU initialisation half-width ``min(0.5, sqrt(6 / (fan_in + fan_out)))``."""
    return min(0.5, glorot_bound(fan_in, fan_out))


def nac_weight_variance(r: float) -> float:
    """Variance of ``tanh(w) sigmoid(m)`` for ``w, m ~ U[-r, r]``."""
    return (1.0 / (2.0 * r)) * (1.0 - math.tanh(r) / r) * (r - math.tanh(r / 2.0))


def nac_init_bound(fan_in: int, fan_out: int) -> float:
    """Half-width ``r`` whose NAC weight variance is ``2 / (fan_in + fan_out)``.

    Solved by bisection on [0, 10] with the fan floored at 5, as in stable-nalu,
    because small fans ask for a variance the construction cannot reach.
    """
    target = 2.0 / max(fan_in + fan_out, 5)
    low, high = 1e-6, 10.0
    for _ in range(60):
        middle = 0.5 * (low + high)
        if nac_weight_variance(middle) < target:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def uniform_(
    tensor: torch.Tensor, low: float, high: float, generator: torch.Generator | None
) -> None:
    """Fill ``tensor`` in place from U[low, high) using ``generator``."""
    with torch.no_grad():
        tensor.uniform_(low, high, generator=generator)

"""Hand-computed outputs, snapped meanings and regularisers of each unit."""

import math
from fractions import Fraction

import pytest
import sympy
import torch

from nalu_sr import NAC, NALU, NAU, NMU, NPU, PrimitiveAttention, RealNPU
from nalu_sr.units import LinearOutput, PrimitiveOutput, ProductOutput, functional as F

BIG = 40.0  # tanh(40) == sigmoid(40) == 1.0 in float64
a, b = sympy.symbols("a b", positive=True)
u, v = sympy.symbols("u v", real=True)


def test_nac_with_weights_one_minus_one_subtracts():
    unit = NAC(2, 1).double()
    with torch.no_grad():
        unit.w_hat.copy_(torch.tensor([[BIG, -BIG]]))
        unit.m_hat.fill_(BIG)
    x = torch.tensor([[5.0, 3.0], [-1.5, 2.25]], dtype=torch.float64)
    assert torch.equal(unit(x), torch.tensor([[2.0], [-3.75]], dtype=torch.float64))
    assert unit.discreteness_error() == 0.0
    assert unit.snap().to_sympy([a, b]) == [a - b]


def test_nac_weight_is_tanh_times_sigmoid():
    unit = NAC(1, 1)
    with torch.no_grad():
        unit.w_hat.fill_(0.5)
        unit.m_hat.fill_(-1.0)
    expected = math.tanh(0.5) / (1 + math.exp(1.0))
    assert float(unit.weight.detach()) == pytest.approx(expected)
    assert unit.discreteness_error() == pytest.approx(expected)


def test_nac_init_matches_variance_target():
    bound = F.nac_init_bound(2, 1)
    assert F.nac_weight_variance(bound) == pytest.approx(2 / 5, rel=1e-6)


def test_nau_clamps_and_subtracts():
    unit = NAU(2, 1)
    with torch.no_grad():
        unit.weight.copy_(torch.tensor([[1.7, -1.0]]))
    assert torch.equal(unit(torch.tensor([[5.0, 3.0]])), torch.tensor([[2.0]]))
    unit.constrain_()
    assert torch.equal(unit.weight.detach(), torch.tensor([[1.0, -1.0]]))


def test_nau_regulariser_is_madsens():
    unit = NAU(3, 1)
    with torch.no_grad():
        unit.weight.copy_(torch.tensor([[0.2, -0.7, 1.0]]))
    # mean(min(|W|, 1 - |W|)) = (0.2 + 0.3 + 0) / 3
    assert float(unit.penalty().detach()) == pytest.approx(0.5 / 3)
    assert unit.discreteness_error() == pytest.approx(0.3)


def test_nau_init_bound():
    assert F.nau_init_bound(2, 1) == 0.5
    assert F.nau_init_bound(100, 100) == pytest.approx(math.sqrt(6 / 200))
    unit = NAU(100, 100, generator=torch.Generator().manual_seed(0))
    assert float(unit.weight.detach().abs().max()) <= math.sqrt(6 / 200)


def test_nmu_multiplies_negative_inputs_and_ignores_unselected():
    unit = NMU(3, 2).double()
    with torch.no_grad():
        unit.weight.copy_(torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
    x = torch.tensor([[-3.0, 4.0, 0.0]], dtype=torch.float64)
    assert torch.equal(unit(x), torch.tensor([[-12.0, 0.0]], dtype=torch.float64))
    record = unit.snap()
    assert record.outputs[0] == ProductOutput((Fraction(1), Fraction(1), Fraction(0)))
    assert record.to_sympy([u, v, a]) == [u * v, v * a]


def test_nmu_fractional_weight_interpolates_identity():
    unit = NMU(1, 1)
    with torch.no_grad():
        unit.weight.fill_(0.25)
    # 0.25 * 5 + 1 - 0.25
    assert float(unit(torch.tensor([[5.0]])).detach()) == pytest.approx(2.0)
    assert float(unit.penalty().detach()) == pytest.approx(0.25)


def test_nmu_init_is_in_quarter_range():
    unit = NMU(50, 50, generator=torch.Generator().manual_seed(0))
    weight = unit.weight.detach()
    assert 0.25 <= float(weight.min()) and float(weight.max()) <= 0.75


def test_realnpu_signed_quotient_of_negative_inputs():
    unit = RealNPU(2, 1).double()
    with torch.no_grad():
        unit.real_weight.copy_(torch.tensor([[1.0, -1.0]]))
        unit.gate.fill_(1.0)
    x = torch.tensor([[-6.0, 3.0], [-6.0, -3.0], [6.0, -3.0]], dtype=torch.float64)
    expected = torch.tensor([[-2.0], [2.0], [-2.0]], dtype=torch.float64)
    torch.testing.assert_close(unit(x), expected, rtol=1e-10, atol=0)
    assert unit.snap().to_sympy([u, v]) == [u / v]


def test_realnpu_closed_gate_makes_input_irrelevant():
    unit = RealNPU(2, 1).double()
    with torch.no_grad():
        unit.real_weight.copy_(torch.tensor([[2.0, 1.3]]))
        unit.gate.copy_(torch.tensor([1.0, 0.0]))
    x = torch.tensor([[3.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(unit(x), torch.tensor([[9.0]], dtype=torch.float64))
    assert unit.snap().to_sympy([u, v]) == [u**2]


def test_realnpu_square_root_snaps_to_half_power():
    unit = RealNPU(1, 1).double()
    with torch.no_grad():
        unit.real_weight.fill_(0.5)
        unit.gate.fill_(1.0)
    x = torch.tensor([[4.0]], dtype=torch.float64)
    torch.testing.assert_close(unit(x), torch.tensor([[2.0]], dtype=torch.float64))
    assert unit.snap().to_sympy([a]) == [sympy.sqrt(a)]
    # On a real (possibly negative) input the RealNPU's branch is explicit.
    (piecewise,) = unit.snap().to_sympy([u])
    assert piecewise.subs(u, 4) == 2
    assert piecewise.subs(u, -4) == 0  # cos(pi / 2) * 2


def test_npu_with_zero_imaginary_weight_equals_realnpu():
    real, full = RealNPU(3, 2).double(), NPU(3, 2).double()
    with torch.no_grad():
        full.real_weight.copy_(real.real_weight)
    x = torch.tensor([[-1.5, 2.0, 0.7], [3.0, -0.2, -4.0]], dtype=torch.float64)
    torch.testing.assert_close(full(x), real(x))


def test_npu_imaginary_weight_counts_as_not_discrete():
    unit = NPU(1, 1)
    with torch.no_grad():
        unit.real_weight.fill_(1.0)
        unit.gate.fill_(1.0)
        unit.imaginary_weight.fill_(0.2)
    assert unit.discreteness_error() == pytest.approx(0.2)


def test_npu_init_follows_the_paper():
    unit = NPU(4, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(unit.imaginary_weight.detach(), torch.zeros(3, 4))
    assert torch.equal(unit.gate.detach(), torch.full((4,), 0.5))
    assert float(unit.real_weight.detach().abs().max()) <= math.sqrt(6 / 7)


def test_npu_rejects_bad_denominator():
    with pytest.raises(ValueError, match="exponent_denominator"):
        RealNPU(2, 1, exponent_denominator=0)


def test_nalu_scalar_gate_selects_paths():
    unit = NALU(2, 2, gate="scalar").double()
    with torch.no_grad():
        unit.w_hat.fill_(BIG)
        unit.m_hat.fill_(BIG)
        unit.gate_weight.copy_(torch.tensor([BIG, -BIG]))
    x = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    out = unit(x).detach()
    assert float(out[0, 0]) == 7.0
    assert float(out[0, 1]) == pytest.approx(12.0, rel=1e-6)  # eps = 1e-7
    record = unit.snap()
    assert isinstance(record.outputs[0], LinearOutput)
    assert record.outputs[1] == ProductOutput((Fraction(1), Fraction(1)), signed=False)
    assert record.to_sympy([a, b]) == [a + b, a * b]
    assert unit.discreteness_error() < 1e-12


def test_nalu_log_path_divides_by_negative_weight():
    unit = NALU(2, 1, gate="scalar", shared_weights=False).double()
    with torch.no_grad():
        unit.w_hat.copy_(torch.tensor([[[0.0, 0.0]], [[BIG, -BIG]]]))
        unit.m_hat.fill_(BIG)
        unit.gate_weight.fill_(-BIG)
    x = torch.tensor([[6.0, 3.0]], dtype=torch.float64)
    assert float(unit(x).detach()[0, 0]) == pytest.approx(2.0, rel=1e-6)
    assert unit.snap().to_sympy([a, b]) == [a / b]


def test_nalu_input_gate_needs_reference_inputs():
    unit = NALU(2, 1)
    with pytest.raises(ValueError, match="needs reference_inputs"):
        unit.snap()


def test_nalu_rejects_unknown_gate():
    with pytest.raises(ValueError, match="gate must be 'input' or 'scalar'"):
        NALU(2, 1, gate="learned")


def _attention_choosing(name, args, primitives=("add", "mul", "sin")):
    unit = PrimitiveAttention(2, 1, primitives=primitives).double()
    with torch.no_grad():
        unit.logits.fill_(-BIG)
        unit.logits[0, unit.primitives.names.index(name)] = BIG
        unit.weight.zero_()
        index = unit.primitives.names.index(name)
        for position, row in enumerate(args):
            unit.weight[0, index, position] = torch.tensor(row)
    return unit


def test_attention_choosing_mul_multiplies():
    unit = _attention_choosing("mul", [[1.0, 0.0], [0.0, 1.0]])
    x = torch.tensor([[3.0, -4.0]], dtype=torch.float64)
    torch.testing.assert_close(unit(x), torch.tensor([[-12.0]], dtype=torch.float64))
    record = unit.snap()
    assert isinstance(record.outputs[0], PrimitiveOutput)
    assert record.outputs[0].primitive.name == "mul"
    assert record.to_sympy([u, v]) == [u * v]
    assert unit.discreteness_error() < 1e-12


def test_attention_applies_primitive_to_combination():
    unit = _attention_choosing("sin", [[1.0, -1.0]])
    x = torch.tensor([[2.0, 0.5]], dtype=torch.float64)
    torch.testing.assert_close(unit(x), torch.sin(torch.tensor([[1.5]])).double())
    assert unit.snap().to_sympy([u, v]) == [sympy.sin(u - v)]


def test_attention_uniform_logits_mix_evenly():
    unit = PrimitiveAttention(1, 1, primitives=("identity", "neg")).double()
    with torch.no_grad():
        unit.weight.fill_(1.0)
    # identity(x) and neg(x) averaged: 0; entropy is maximal.
    x = torch.tensor([[5.0]], dtype=torch.float64)
    assert float(unit(x).detach()) == 0.0
    assert float(unit.penalty().detach()) == pytest.approx(1.0)
    assert unit.discreteness_error() == pytest.approx(0.5)


def test_attention_temperature_sharpens_choice():
    unit = PrimitiveAttention(1, 1, primitives=("identity", "neg"))
    with torch.no_grad():
        unit.logits.copy_(torch.tensor([[1.0, 0.0]]))
    soft = unit.attention()[0, 0].item()
    unit.temperature = 0.05
    assert unit.attention()[0, 0].item() > soft
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        unit.temperature = 0.0


def test_attention_gumbel_only_perturbs_in_training():
    unit = PrimitiveAttention(1, 3, primitives=("identity", "neg"), selection="gumbel")
    unit.eval()
    assert torch.equal(unit.attention(), torch.full((3, 2), 0.5))
    unit.train()
    assert not torch.equal(unit.attention(), torch.full((3, 2), 0.5))


def test_attention_bias_becomes_float_offset():
    unit = PrimitiveAttention(1, 1, primitives=("identity",), bias=True)
    with torch.no_grad():
        unit.weight.fill_(1.0)
        unit.bias.fill_(0.25)
    (expression,) = unit.snap().to_sympy([u])
    assert expression == u + sympy.Float(0.25)


def test_attention_custom_primitive_and_errors():
    with pytest.raises(ValueError, match=r"unknown primitive 'sinn'.*'sin'"):
        PrimitiveAttention(2, 1, primitives=("sinn",))
    with pytest.raises(ValueError, match="selection must be"):
        PrimitiveAttention(2, 1, selection="hard")

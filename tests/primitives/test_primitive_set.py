"""PrimitiveSet and resolve_primitives."""

import pickle
from collections.abc import Sequence

import pytest
import sympy
import torch

from nalu_sr.exceptions import NaluSRError, UnknownPrimitiveError
from nalu_sr.primitives import (
    ARITHMETIC_PRIMITIVES,
    BUILTIN_PRIMITIVES,
    Primitive,
    PrimitiveSet,
    make_primitive,
    resolve_primitives,
)

ADD = BUILTIN_PRIMITIVES.get("add")
SIN = BUILTIN_PRIMITIVES.get("sin")
SQRT = BUILTIN_PRIMITIVES.get("sqrt")
NEG = BUILTIN_PRIMITIVES.get("neg")


def safe_sinh(x):
    return torch.sinh(x.clamp(-20, 20))


SINH = make_primitive(
    name="sinh",
    arity=1,
    torch_fn=torch.sinh,
    sympy_fn=sympy.sinh,
    safe_torch_fn=safe_sinh,
    wrap=False,
)


# -------------------------------------------------------- resolve_primitives


def test_resolve_mixes_names_and_objects_in_order():
    resolved = resolve_primitives(["sin", SINH, "add", "identity"])
    assert isinstance(resolved, PrimitiveSet)
    assert resolved.names == ("sin", "sinh", "add", "identity")
    assert resolved[0] is SIN
    assert resolved[1] is SINH
    assert resolved[2] is ADD


def test_resolve_order_is_the_given_order_not_the_builtin_order():
    assert resolve_primitives(["sqrt", "add"]).names == ("sqrt", "add")
    assert resolve_primitives(["add", "sqrt"]).names == ("add", "sqrt")


def test_resolve_accepts_a_single_string():
    resolved = resolve_primitives("sin")
    assert resolved.names == ("sin",)
    assert resolved[0] is SIN


def test_resolve_accepts_a_single_primitive():
    resolved = resolve_primitives(SINH)
    assert list(resolved) == [SINH]


def test_resolve_accepts_any_iterable():
    resolved = resolve_primitives(name for name in ("neg", "mul"))
    assert resolved.names == ("neg", "mul")


def test_resolve_unknown_name_suggests_the_close_one():
    with pytest.raises(UnknownPrimitiveError, match="unknown primitive 'sinn'") as e:
        resolve_primitives(["add", "sinn"])
    message = str(e.value)
    assert "Did you mean" in message
    assert "'sin'" in message
    assert "Known primitives:" in message
    assert all(name in message for name in BUILTIN_PRIMITIVES.names)


def test_resolve_unknown_name_without_close_match_has_no_suggestion():
    with pytest.raises(UnknownPrimitiveError) as excinfo:
        resolve_primitives(["zzzzzzzz"])
    assert "Did you mean" not in str(excinfo.value)
    assert "'zzzzzzzz'" in str(excinfo.value)


def test_resolve_suggests_several_close_names():
    with pytest.raises(UnknownPrimitiveError, match="Did you mean") as excinfo:
        resolve_primitives(["cosh"])
    assert "'cos'" in str(excinfo.value)


def test_unknown_primitive_error_is_a_value_error():
    assert issubclass(UnknownPrimitiveError, ValueError)
    assert issubclass(UnknownPrimitiveError, NaluSRError)
    with pytest.raises(ValueError, match="sinn"):
        resolve_primitives(["sinn"])


def test_resolve_names_are_case_sensitive():
    with pytest.raises(UnknownPrimitiveError, match="unknown primitive 'SIN'"):
        resolve_primitives(["SIN"])


@pytest.mark.parametrize("entry", [3, None, torch.sin, sympy.sin, ("sin",)], ids=repr)
def test_resolve_rejects_entries_that_are_neither_names_nor_primitives(entry):
    with pytest.raises(TypeError, match="names or Primitive objects") as excinfo:
        resolve_primitives(["add", entry])
    assert repr(entry) in str(excinfo.value)


def test_resolve_rejects_duplicates():
    with pytest.raises(ValueError, match="duplicate primitive names: \\['sin'\\]"):
        resolve_primitives(["sin", "add", "sin"])
    with pytest.raises(ValueError, match="duplicate"):
        resolve_primitives(["sin", SIN])


def test_resolve_rejects_a_custom_primitive_shadowing_a_builtin_name():
    custom_sin = Primitive("sin", 1, torch.sin, sympy.sin, complexity=5.0)
    with pytest.raises(ValueError, match="duplicate primitive names"):
        resolve_primitives(["sin", custom_sin])
    # Alone, the custom one is used as given, not replaced by the built-in.
    assert resolve_primitives([custom_sin])[0].complexity == 5.0


def test_resolve_rejects_an_empty_spec():
    with pytest.raises(ValueError, match="at least one primitive"):
        resolve_primitives([])


def test_arithmetic_primitives_all_resolve():
    resolved = resolve_primitives(ARITHMETIC_PRIMITIVES)
    assert resolved.names == ARITHMETIC_PRIMITIVES
    assert all(name in BUILTIN_PRIMITIVES for name in ARITHMETIC_PRIMITIVES)
    assert {"add", "sub", "mul", "div"} <= set(ARITHMETIC_PRIMITIVES)
    assert resolved.max_arity == 2


# ---------------------------------------------------------------- PrimitiveSet


def test_empty_set_is_rejected():
    with pytest.raises(ValueError, match="at least one primitive"):
        PrimitiveSet([])
    with pytest.raises(ValueError, match="at least one primitive"):
        PrimitiveSet(iter(()))


def test_duplicate_names_are_rejected_and_named():
    other_add = Primitive("add", 2, torch.add, lambda a, b: a + b)
    with pytest.raises(ValueError, match=r"duplicate primitive names: \['add'\]"):
        PrimitiveSet([ADD, SIN, other_add])


def test_every_duplicate_is_named_once():
    with pytest.raises(ValueError) as excinfo:
        PrimitiveSet([SIN, ADD, SIN, ADD, SIN, NEG])
    assert str(excinfo.value) == "duplicate primitive names: ['add', 'sin']"


def test_accepts_a_generator_once():
    members = (primitive for primitive in (SIN, ADD))
    primitives = PrimitiveSet(members)
    assert primitives.names == ("sin", "add")
    assert list(primitives) == [SIN, ADD]
    assert list(primitives) == [SIN, ADD]  # iterable more than once


def test_len_iteration_and_indexing_follow_the_given_order():
    primitives = PrimitiveSet([SQRT, ADD, SIN])
    assert len(primitives) == 3
    assert list(primitives) == [SQRT, ADD, SIN]
    assert [p.name for p in primitives] == list(primitives.names)
    assert primitives[0] is SQRT
    assert primitives[-1] is SIN
    with pytest.raises(IndexError):
        primitives[3]
    assert isinstance(primitives, Sequence)
    assert primitives.index(ADD) == 1


def test_names_are_a_tuple_in_order():
    primitives = PrimitiveSet([SIN, NEG, ADD])
    assert primitives.names == ("sin", "neg", "add")
    assert isinstance(primitives.names, tuple)


def test_get_returns_the_member():
    primitives = PrimitiveSet([SIN, SINH, ADD])
    assert primitives.get("sinh") is SINH
    assert primitives.get("add") is ADD


def test_get_unknown_name_suggests_members_only():
    primitives = PrimitiveSet([SIN, SINH, ADD])
    with pytest.raises(UnknownPrimitiveError, match="unknown primitive 'sine'") as e:
        primitives.get("sine")
    message = str(e.value)
    assert "Did you mean" in message
    assert "'sin'" in message
    assert message.endswith("Known primitives: sin, sinh, add.")
    assert not isinstance(e.value, KeyError)  # a ValueError, not a KeyError
    assert isinstance(e.value, ValueError)


def test_max_arity():
    assert PrimitiveSet([SIN, NEG]).max_arity == 1
    assert PrimitiveSet([SIN, ADD]).max_arity == 2
    assert BUILTIN_PRIMITIVES.max_arity == max(p.arity for p in BUILTIN_PRIMITIVES)
    ternary = Primitive("fma", 3, lambda a, b, c: a * b + c, lambda a, b, c: a * b + c)
    assert PrimitiveSet([SIN, ternary, ADD]).max_arity == 3


def test_membership_by_name_and_by_object():
    primitives = PrimitiveSet([SIN, SINH])
    assert "sin" in primitives
    assert "sinh" in primitives
    assert "add" not in primitives
    assert SIN in primitives
    assert SINH in primitives
    assert ADD not in primitives
    assert 3 not in primitives
    assert None not in primitives


def test_membership_by_object_compares_fields_not_just_names():
    primitives = PrimitiveSet([SIN])
    same_name_other_function = Primitive("sin", 1, torch.cos, sympy.cos)
    assert "sin" in primitives
    assert same_name_other_function not in primitives
    equal_copy = Primitive("sin", 1, SIN.torch_fn, SIN.sympy_fn, complexity=3.0)
    assert equal_copy == SIN
    assert equal_copy in primitives


def test_equality_depends_on_members_and_order():
    assert PrimitiveSet([SIN, ADD]) == PrimitiveSet([SIN, ADD])
    assert PrimitiveSet([SIN, ADD]) != PrimitiveSet([ADD, SIN])
    assert PrimitiveSet([SIN, ADD]) != PrimitiveSet([SIN])
    assert PrimitiveSet([SIN, ADD]) != (SIN, ADD)
    assert PrimitiveSet([SIN, ADD]) != [SIN, ADD]


def test_equal_sets_hash_equal_and_work_as_keys():
    first = PrimitiveSet([SIN, ADD])
    second = resolve_primitives(["sin", "add"])
    assert first == second
    assert hash(first) == hash(second)
    table = {first: "value"}
    assert table[second] == "value"
    assert len({first, second, PrimitiveSet([ADD, SIN])}) == 2


def test_is_immutable():
    primitives = PrimitiveSet([SIN, ADD])
    with pytest.raises(TypeError):
        primitives[0] = NEG  # type: ignore[index]
    assert not hasattr(primitives, "append")
    with pytest.raises(AttributeError):
        primitives.names = ("x",)  # type: ignore[misc]


def test_changing_the_source_list_does_not_change_the_set():
    members = [SIN, ADD]
    primitives = PrimitiveSet(members)
    members.append(NEG)
    assert len(primitives) == 2


def test_repr_lists_the_names():
    assert repr(PrimitiveSet([SIN, ADD])) == "PrimitiveSet(['sin', 'add'])"


def test_builtin_set_pickles_and_compares_equal():
    restored = pickle.loads(pickle.dumps(BUILTIN_PRIMITIVES))
    assert restored == BUILTIN_PRIMITIVES
    assert hash(restored) == hash(BUILTIN_PRIMITIVES)
    assert restored.names == BUILTIN_PRIMITIVES.names


def test_set_with_a_wrapped_custom_primitive_pickles():
    custom = make_primitive(
        name="sinh",
        arity=1,
        torch_fn=torch.sinh,
        sympy_fn=sympy.sinh,
        safe_torch_fn=lambda x: torch.sinh(x.clamp(-20, 20)),
    )
    primitives = resolve_primitives(["add", custom])
    restored = pickle.loads(pickle.dumps(primitives))
    assert restored.names == ("add", "sinh")
    x = torch.tensor([1e6, 0.5], dtype=torch.float64)
    torch.testing.assert_close(
        restored.get("sinh").train_forward(x), custom.train_forward(x)
    )

"""The :class:`Primitive` record and the immutable :class:`PrimitiveSet`."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import sympy
import torch

from nalu_sr.exceptions import UnknownPrimitiveError

TorchFunction = Callable[..., torch.Tensor]
SympyFunction = Callable[..., sympy.Expr]


@dataclass(frozen=True)
class Primitive:
    """One function the network may choose, with all its backends side by side.

    Build custom ones with :func:`nalu_sr.make_primitive`, which checks them.

    Parameters
    ----------
    name : str
        Unique name, used in estimator parameters and in reports.
    arity : int
        Number of arguments.
    torch_fn : callable
        The exact function on tensors (may return inf or nan off its domain).
    sympy_fn : callable
        The exact function on SymPy expressions.
    safe_torch_fn : callable or None, default=None
        A training-safe version with finite values and gradients everywhere
        (protected division, clamped exponent...). ``None`` means ``torch_fn``
        is already safe.
    complexity : float, default=1.0
        Cost of one use of the primitive in a formula's complexity.
    """

    name: str
    arity: int
    torch_fn: TorchFunction = field(repr=False)
    sympy_fn: SympyFunction = field(repr=False)
    safe_torch_fn: TorchFunction | None = field(default=None, repr=False)
    complexity: float = 1.0

    def train_forward(self, *args: torch.Tensor) -> torch.Tensor:
        """Apply the training-safe torch function.

        Parameters
        ----------
        *args : torch.Tensor
            ``arity`` tensors of the same shape.

        Returns
        -------
        torch.Tensor
            The primitive's value, finite wherever the inputs are finite.
        """
        function = self.torch_fn if self.safe_torch_fn is None else self.safe_torch_fn
        return function(*args)

    def exact_forward(self, *args: torch.Tensor) -> torch.Tensor:
        """Apply the exact torch function, which may be non-finite off its domain.

        Parameters
        ----------
        *args : torch.Tensor
            ``arity`` tensors of the same shape.

        Returns
        -------
        torch.Tensor
            The primitive's exact value.
        """
        return self.torch_fn(*args)

    def to_sympy(self, *args: sympy.Expr) -> sympy.Expr:
        """Apply the exact SymPy function.

        Parameters
        ----------
        *args : sympy.Expr
            ``arity`` expressions.

        Returns
        -------
        sympy.Expr
            The symbolic value.
        """
        return self.sympy_fn(*args)


class PrimitiveSet(Sequence[Primitive]):
    """An immutable, ordered collection of primitives with unique names.

    Parameters
    ----------
    primitives : iterable of Primitive
        The members, in the order the attention units will index them.

    Raises
    ------
    ValueError
        If two members share a name, or the set is empty.
    """

    def __init__(self, primitives: Iterable[Primitive]) -> None:
        members = tuple(primitives)
        if not members:
            raise ValueError("a PrimitiveSet needs at least one primitive")
        names = [primitive.name for primitive in members]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate primitive names: {duplicates}")
        self._members = members
        self._by_name = dict(zip(names, members, strict=True))

    def __getitem__(self, index: int) -> Primitive:  # type: ignore[override]
        return self._members[index]

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Primitive]:
        return iter(self._members)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._by_name
        return item in self._members

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrimitiveSet) and self._members == other._members

    def __hash__(self) -> int:
        return hash(self._members)

    def __repr__(self) -> str:
        return f"PrimitiveSet({list(self.names)})"

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the members, in order."""
        return tuple(self._by_name)

    @property
    def max_arity(self) -> int:
        """Largest arity among the members."""
        return max(primitive.arity for primitive in self._members)

    def get(self, name: str) -> Primitive:
        """Return the member called ``name``.

        Parameters
        ----------
        name : str
            Name of a member.

        Returns
        -------
        Primitive
            The member.

        Raises
        ------
        UnknownPrimitiveError
            If no member has that name; the message suggests close names.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownPrimitiveError(
                _unknown_name_message(name, self.names)
            ) from None


def _unknown_name_message(name: str, known: Sequence[str]) -> str:
    """Say that ``name`` is unknown, suggesting the closest known names."""
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    return f"unknown primitive {name!r}.{hint} Known primitives: {', '.join(known)}."

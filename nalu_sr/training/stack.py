"""Several bodies of one shape seen as one: what batched restarts train.

Training (:func:`~nalu_sr.training.varpro.train_bodies`) reads a
:class:`BodyStack`: every quantity comes with a leading axis of one entry per
body (the stack's members). :class:`SingleBody` is the stack of one body, on
the body's own parameters at no extra cost; :class:`StackedBodies` keeps the
parameters of several bodies stacked along a new first axis and evaluates
every member at once with :func:`torch.func.vmap`, so one optimiser step
advances all of them. Both work on any device the bodies are on.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from nalu_sr.linalg import relative_error_torch, ridge_fitted_values
from nalu_sr.model import StackedModel


def stack_bodies(bodies: Sequence[StackedModel]) -> BodyStack:
    """Return the stack that trains ``bodies`` together.

    Parameters
    ----------
    bodies : sequence of StackedModel
        Bodies whose parameters have the same names, shapes, dtypes and
        devices (restarts of one family and width).

    Returns
    -------
    BodyStack
        A :class:`SingleBody` for one body, else a :class:`StackedBodies`.

    Raises
    ------
    ValueError
        If there is no body or two bodies differ in shape.
    """
    if not bodies:
        raise ValueError("a stack needs at least one body")
    if len(bodies) == 1:
        return SingleBody(bodies[0])
    return StackedBodies(bodies)


def same_shape(bodies: Sequence[StackedModel]) -> bool:
    """Whether every body's parameters and buffers match the first body's."""

    def layout(body: StackedModel) -> list[tuple[str, Any, Any, Any]]:
        state = body.state_dict(keep_vars=True)
        return [(k, v.shape, v.dtype, v.device) for k, v in state.items()]

    first = layout(bodies[0])
    return all(layout(body) == first for body in bodies[1:])


def relative_errors(
    hidden: torch.Tensor,
    y: torch.Tensor,
    ridge: float,
    weights: torch.Tensor | None,
) -> torch.Tensor:
    """Relative error of the ridge head on one member's hidden features."""
    fitted = ridge_fitted_values(hidden, y, ridge, weights)
    return relative_error_torch(fitted, y, weights)


class BodyStack:
    """Bodies trained together; every method answers with one entry per member.

    Attributes
    ----------
    bodies : list of StackedModel
        The members, in order; :meth:`sync_to_bodies` writes the trained
        values into them.
    """

    def __init__(self, bodies: Sequence[StackedModel]) -> None:
        self.bodies = list(bodies)

    @property
    def size(self) -> int:
        """Number of members."""
        return len(self.bodies)

    def parameters(self) -> list[torch.Tensor]:
        """Return the tensors the optimiser updates."""
        raise NotImplementedError

    def discrete_views(self) -> list[torch.Tensor]:
        """Return each snappable parameter with a leading member axis.

        In the order of :meth:`StackedModel.discrete_parameters`; writing into
        a view writes into the members' parameters.
        """
        raise NotImplementedError

    def snap_targets(self) -> list[torch.Tensor]:
        """Return what each snappable parameter snaps to now, member axis first."""
        raise NotImplementedError

    def penalties(self) -> torch.Tensor:
        """Return each member's regulariser, shape ``(size,)``."""
        raise NotImplementedError

    def errors(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        ridge: float,
        weights: torch.Tensor | None,
        members: Sequence[int],
    ) -> torch.Tensor:
        """Return the relative head error on ``(X, y)`` of each of ``members``.

        Members left out are not evaluated (and get no gradient).
        """
        raise NotImplementedError

    def constrain_(self) -> None:
        """Project every member's parameters into their valid range."""
        raise NotImplementedError

    def snapshot(self, member: int) -> list[torch.Tensor]:
        """Return a copy of member ``member``'s trainable values."""
        raise NotImplementedError

    def restore(self, member: int, values: Sequence[torch.Tensor]) -> None:
        """Set member ``member``'s trainable values (from :meth:`snapshot`)."""
        raise NotImplementedError

    def sync_to_bodies(self, members: Sequence[int] | None = None) -> None:
        """Copy the stack's values of ``members`` (default all) into the bodies."""

    def sync_from_body(self, member: int) -> None:
        """Copy the values of body ``member`` into the stack."""

    def pull(self) -> torch.Tensor:
        """Mean distance of snappable parameters from their targets, per member.

        Bodies without snappable parameters are pulled by their own
        regulariser instead.
        """
        views = self.discrete_views()
        if not views:
            return self.penalties()
        targets = self.snap_targets()
        distances = [
            torch.abs(view - target).flatten(1).mean(1)
            for view, target in zip(views, targets, strict=True)
        ]
        return torch.stack(distances).sum(0)


class SingleBody(BodyStack):
    """The stack of one body: its own parameters, with a member axis of one.

    Parameters
    ----------
    body : StackedModel
        The body, trained in place.
    """

    def __init__(self, body: StackedModel) -> None:
        super().__init__([body])
        self.body = body

    def parameters(self) -> list[torch.Tensor]:
        """Return the tensors the optimiser updates."""
        return list(self.body.parameters())

    def discrete_views(self) -> list[torch.Tensor]:
        """Return each snappable parameter with a member axis first."""
        return [p.unsqueeze(0) for p, _ in self.body.discrete_parameters()]

    def snap_targets(self) -> list[torch.Tensor]:
        """Return what each snappable parameter snaps to now."""
        return [t.unsqueeze(0) for _, t in self.body.discrete_parameters()]

    def penalties(self) -> torch.Tensor:
        """Return each member's regulariser."""
        return self.body.penalty().unsqueeze(0)

    def errors(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        ridge: float,
        weights: torch.Tensor | None,
        members: Sequence[int],
    ) -> torch.Tensor:
        """Return the relative head error of each of ``members``."""
        return relative_errors(self.body(X), y, ridge, weights).unsqueeze(0)

    def constrain_(self) -> None:
        """Project every member's parameters into their valid range."""
        self.body.constrain_()

    def snapshot(self, member: int) -> list[torch.Tensor]:
        """Return a copy of the member's trainable values."""
        return [p.detach().clone() for p in self.body.parameters()]

    def restore(self, member: int, values: Sequence[torch.Tensor]) -> None:
        """Set the member's trainable values."""
        with torch.no_grad():
            for parameter, value in zip(self.body.parameters(), values, strict=True):
                parameter.copy_(value)


class _MethodCall(nn.Module):
    """Runs ``function(body, *args)`` so that ``functional_call`` can swap its state."""

    def __init__(self, body: StackedModel) -> None:
        super().__init__()
        self.body = body

    def forward(self, function: Callable[..., Any], *args: Any) -> Any:
        return function(self.body, *args)


class StackedBodies(BodyStack):
    """Several bodies whose parameters are stacked along a new first axis.

    Parameters
    ----------
    bodies : sequence of StackedModel
        Two or more bodies of the same shape (see :func:`same_shape`); they
        keep their own values until :meth:`sync_to_bodies`.

    Raises
    ------
    ValueError
        If the bodies differ in shape.
    """

    def __init__(self, bodies: Sequence[StackedModel]) -> None:
        if not same_shape(bodies):
            raise ValueError("only bodies of the same shape can be stacked")
        super().__init__(bodies)
        params, buffers = stack_module_state(list(bodies))
        self._state = {
            **{f"body.{k}": v for k, v in params.items()},
            **{f"body.{k}": v for k, v in buffers.items()},
        }
        self._params = [self._state[f"body.{k}"] for k in params]
        self._call = _MethodCall(copy.deepcopy(bodies[0]))
        names = {id(p): k for k, p in bodies[0].named_parameters()}
        self._discrete = [
            self._state[f"body.{names[id(p)]}"]
            for p, _ in bodies[0].discrete_parameters()
        ]

    def _each(
        self, function: Callable[..., Any], members: Sequence[int] | None = None
    ) -> Any:
        """Return ``function(member)`` for ``members`` (default all), stacked."""

        def one(state: dict[str, torch.Tensor]) -> Any:
            return functional_call(self._call, state, (function,))

        state = self._state
        if members is not None and len(members) < self.size:
            index = torch.tensor(list(members), device=self._params[0].device)
            state = {name: value[index] for name, value in state.items()}
        return vmap(one)(state)

    def parameters(self) -> list[torch.Tensor]:
        """Return the tensors the optimiser updates."""
        return list(self._params)

    def discrete_views(self) -> list[torch.Tensor]:
        """Return each snappable parameter with a member axis first."""
        return list(self._discrete)

    def snap_targets(self) -> list[torch.Tensor]:
        """Return what each snappable parameter snaps to now."""
        if not self._discrete:
            return []
        with torch.no_grad():
            targets = self._each(
                lambda body: [t for _, t in body.discrete_parameters()]
            )
        return list(targets)

    def penalties(self) -> torch.Tensor:
        """Return each member's regulariser."""
        result: torch.Tensor = self._each(lambda body: body.penalty())
        return result

    def errors(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        ridge: float,
        weights: torch.Tensor | None,
        members: Sequence[int],
    ) -> torch.Tensor:
        """Return the relative head error of each of ``members``."""
        result: torch.Tensor = self._each(
            lambda body: relative_errors(body(X), y, ridge, weights), members
        )
        return result

    def constrain_(self) -> None:
        """Project every member's parameters into their valid range."""

        def project(body: StackedModel) -> torch.Tensor:
            body.constrain_()
            return torch.zeros(())

        with torch.no_grad(), warnings.catch_warnings():
            # In-place clamps have no batching rule yet: vmap loops over the
            # members for them, which is correct and says so in a warning.
            warnings.simplefilter("ignore", UserWarning)
            self._each(project)

    def snapshot(self, member: int) -> list[torch.Tensor]:
        """Return a copy of the member's trainable values."""
        return [p.detach()[member].clone() for p in self._params]

    def restore(self, member: int, values: Sequence[torch.Tensor]) -> None:
        """Set the member's trainable values."""
        with torch.no_grad():
            for parameter, value in zip(self._params, values, strict=True):
                parameter[member] = value

    def sync_to_bodies(self, members: Sequence[int] | None = None) -> None:
        """Copy the stack's values of ``members`` (default all) into the bodies."""
        chosen = range(self.size) if members is None else members
        with torch.no_grad():
            for k in chosen:
                state = self.bodies[k].state_dict(keep_vars=True)
                for name, value in state.items():
                    value.copy_(self._state[f"body.{name}"][k])

    def sync_from_body(self, member: int) -> None:
        """Copy the values of one body into the stack."""
        with torch.no_grad():
            state = self.bodies[member].state_dict(keep_vars=True)
            for name, value in state.items():
                self._state[f"body.{name}"][member].copy_(value)

"""Griffe extension: render Sphinx cross-reference roles as inline code.

The package's numpydoc docstrings use Sphinx roles such as
``:func:`~nalu_sr.make_primitive``` that mkdocstrings does not interpret.
This rewrites each role to inline code before the docstring is parsed:
``~a.b.c`` shows as ``c`` and ``a.b.c`` as ``a.b.c``, as Sphinx would.
Loaded by ``mkdocs.yml``; not part of the package.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:attr|class|data|exc|func|meth|mod|obj):`([^`]+)`")


def _as_code(match: re.Match[str]) -> str:
    target = match.group(1).strip()
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target}`"


class SphinxRoles(griffe.Extension):
    """Replace Sphinx roles in every docstring by inline code."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_as_code, obj.docstring.value)

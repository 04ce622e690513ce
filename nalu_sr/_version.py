"""The version of nalu_sr, in a module of its own.

Modules inside the package read the version from here, never from the package
root: importing ``nalu_sr`` from below would run the whole ``__init__`` and
make an import circle. Hatch reads the version from this file too (see
``[tool.hatch.version]`` in ``pyproject.toml``).
"""

__version__ = "0.1.0"

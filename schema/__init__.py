"""The schema: strawberry types per domain, the permission directives, errors, and assembly (federation v2).

Importing a submodule (``schema.errors``) does not build the schema; ``from schema import schema`` does, through
``schema.assembly``, on first use.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("schema", "build_schema"):
        from schema import assembly

        return getattr(assembly, name)
    raise AttributeError(name)

"""Names a package exports but imports only when first used (PEP 562), so that a process that
needs one part of funnelrun (a script executor, say) does not load the rest."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, names: Mapping[str, str],
               namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The package's `__getattr__`: `names` maps each name to the submodule defining it; a name
    once imported is kept in `namespace` (the package's globals), so it is looked up once."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{names[name]}", package), name)
        namespace[name] = value
        return value

    return __getattr__

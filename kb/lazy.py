"""Public names of a package imported on first use (PEP 562), so that a command pays only for
the modules it uses: ``spinekb.bridge`` and ``spinekb.explain`` each keep a table of where their
names live and hand its lookup to :func:`lazy_names`."""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, home: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: name -> the attribute of the module ``home``
    names, imported when first asked for and then kept in the package's namespace."""
    namespace = importlib.import_module(package).__dict__

    def attribute(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home[name]), name)
        namespace[name] = value
        return value

    return attribute

"""What is read from the installed KB's syntax, kept on disk between processes.

Reading the KB's rule structure walks every statement of its ``clingo.ast`` (about 0.8 s of CPU),
which a one-case ``spinekb evaluate`` would otherwise pay on every start. The result is written as
JSON under the user's cache folder, keyed by the KB's version (a digest of its files) and by a
digest of the Python that reads it, so an edit to either makes a new entry and a stale one is
never read. Writes are atomic (a temporary file renamed into place); a cache folder that cannot
be written or an entry that cannot be read is simply ignored.

``SPINEKB_CACHE_DIR`` names the folder (default ``$XDG_CACHE_HOME/spinekb`` or
``~/.cache/spinekb``); ``SPINEKB_CACHE_DIR=off`` turns the cache off.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional


def cache_dir() -> Optional[Path]:
    """The cache folder, or ``None`` when the cache is off."""
    chosen = os.environ.get("SPINEKB_CACHE_DIR")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "spinekb"


def code_digest(*modules: str) -> str:
    """A digest of the source files of ``modules`` (paths), naming the code that built an entry."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:12]


def installed_key(*modules: str) -> str:
    """The key of an entry read from the installed KB by the code in ``modules``: the KB files'
    digest (from its version) and the code's digest."""
    from spinekb.kb import kb_version

    return kb_version().rsplit(".", 1)[-1] + "-" + code_digest(*modules)


def cached_json(name: str, key: str, build: Callable[[], Any]) -> Any:
    """The JSON value stored as ``name`` under ``key``; built with ``build`` and stored when
    missing or unreadable."""
    folder = cache_dir()
    path = folder / f"{name}-{key}.json" if folder else None
    if path is not None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    value = build()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                             prefix=f".{name}-", suffix=".tmp") as handle:
                json.dump(value, handle)
            os.replace(handle.name, path)
        except OSError:
            pass
    return value

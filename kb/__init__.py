"""The Spine Imaging Guidelines V1.0.2023 as Answer Set Programming files.

All policy lives in the ``.lp`` files of this folder; this module only finds them::

    >>> from spinekb.kb import kb_files, kb_version
    >>> any(p.name == "decide.lp" for p in kb_files())
    True
"""
from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

GUIDELINE = "Spine Imaging Guidelines V1.0.2023"


def kb_dir() -> Path:
    """The folder holding the knowledge base's ``.lp`` files."""
    return Path(str(resources.files(__name__)))


def kb_files() -> list[Path]:
    """Every ``.lp`` file of the knowledge base, in a stable order."""
    return sorted(kb_dir().glob("*.lp"))


@cache
def kb_text() -> str:
    """The whole knowledge base as one program text (files in stable order)."""
    return program_text(kb_files())


@cache
def kb_version() -> str:
    """Guideline version plus a digest of the KB files: names the exact rules behind a decision."""
    return version_of(kb_files())


def program_text(files: list[Path]) -> str:
    """``.lp`` files as one program text to ground, each behind a ``%% file: <name>`` comment line
    for a person reading the text (the parsed statements of :mod:`spinekb.kb.syntax` carry each
    file's name and lines)."""
    return "\n".join(f"%% file: {p.name}\n{p.read_text(encoding='utf-8')}" for p in files)


def version_of(files: list[Path]) -> str:
    """The version of the KB made of ``files``: the guideline's, plus a digest of names and bytes."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"spine-imaging-V1.0.2023+kb.{digest.hexdigest()[:12]}"

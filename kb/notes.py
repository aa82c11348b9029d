"""The KB's notes to its readers: every ``% reading:`` and ``% not encoded:`` comment.

Where the guideline allowed more than one reading, the KB says which it chose beside the rule;
where it leaves a passage out, it says why. This module collects those notes so that
``spinekb readings`` can list them with their section and location::

    >>> notes = kb_notes()
    >>> all(n.kind in ("reading", "not encoded") for n in notes)
    True
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from spinekb.kb import kb_files

_TAGS = {"% reading:": "reading", "% not encoded:": "not encoded"}
_FILE_SECTION = re.compile(r"^sp(\d+(?:_\d+)*)_")


@dataclass(frozen=True)
class Note:
    """One reading or omission, where it is written, and the section it belongs to."""

    kind: str
    section: str
    file: str
    line: int
    text: str

    def where(self) -> str:
        """``kb/<file>:<line>``."""
        return f"kb/{self.file}:{self.line}"


def section_of_file(path: Path) -> str:
    """The section a KB file encodes, from its name (``sp5_1_low_back_pain.lp`` -> ``SP-5.1``)."""
    match = _FILE_SECTION.match(path.name)
    return "SP-" + match.group(1).replace("_", ".") if match else path.stem


def parse_notes(path: Path) -> list[Note]:
    """The notes of one file: a tagged comment line and the plain comment lines continuing it."""
    notes: list[Note] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        tag = next((t for t in _TAGS if stripped.startswith(t)), None)
        code_before = stripped.split("%", 1)[0].strip() if not stripped.startswith("%") else ""
        if tag is None and "% reading:" in lines[i] and code_before:
            tag = "% reading:"  # a note after code on the same line
            stripped = lines[i][lines[i].index("% reading:"):].strip()
        if tag is None:
            i += 1
            continue
        start, text = i + 1, [stripped[len(tag):].strip()]
        i += 1
        while i < len(lines):
            follow = lines[i].strip()
            if (not follow.startswith("% ") or any(follow.startswith(t) for t in _TAGS)
                    or follow.startswith(("%*", "%#"))):
                break
            text.append(follow[2:].strip())
            i += 1
        notes.append(Note(_TAGS[tag], section_of_file(path), path.name, start, " ".join(text)))
    return notes


@cache
def kb_notes() -> tuple[Note, ...]:
    """Every note of the KB, file by file."""
    return tuple(note for path in kb_files() for note in parse_notes(path))

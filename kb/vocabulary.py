"""The controlled vocabulary of documented findings: every ``term/2`` of the KB (``kb/vocabulary.lp``
and the terms a section file declares beside its rules).

    >>> vocabulary()["saddle_anesthesia"].sections
    ('SP-1.2',)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import clingo

from spinekb.kb import kb_files


@dataclass(frozen=True)
class Term:
    """One documented-finding term: its name, one-line definition and the sections using it."""

    name: str
    definition: str
    sections: tuple[str, ...]


def section_key(section: str) -> tuple[int, ...]:
    """Sort key putting SP-2.10 after SP-2.9."""
    return tuple(int(part) for part in section.removeprefix("SP-").split(".") if part.isdigit())


@cache
def vocabulary() -> dict[str, Term]:
    """Every term of the vocabulary, by name, in alphabetical order."""
    ctl = clingo.Control(["--warn=none"])
    for path in kb_files():
        ctl.load(str(path))
    ctl.ground([("base", [])])
    definitions: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    for atom in ctl.symbolic_atoms.by_signature("term", 2):
        name, text = atom.symbol.arguments
        definitions[name.name] = text.string
    for atom in ctl.symbolic_atoms.by_signature("term_section", 2):
        name, section = atom.symbol.arguments
        sections.setdefault(name.name, []).append(section.string)
    return {
        name: Term(name, definitions[name], tuple(sorted(sections.get(name, []), key=section_key)))
        for name in sorted(definitions)
    }

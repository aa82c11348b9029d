"""The case-independent part of the KB: criteria, pathways, code table, sections.

Read once per process by grounding the KB with no case at all::

    >>> kb = static_kb()
    >>> kb.codes["72148"].description
    'MRI Lumbar without contrast'
"""
from __future__ import annotations

from dataclasses import astuple, dataclass, field
from functools import cache
from typing import Any

import clingo

from spinekb.kb import kb_text, kb_version


def render(symbol: clingo.Symbol) -> str:
    """A symbol as the KB writes it: strings unquoted, terms as ASP text."""
    return symbol.string if symbol.type == clingo.SymbolType.String else str(symbol)


@dataclass(frozen=True)
class Code:
    """One row of the CPT code table."""

    code: str
    modality: str
    region: str
    contrast: str
    description: str
    in_spine_table: bool


@dataclass(frozen=True)
class Criterion:
    """A criterion of the guideline: id, section and the words it encodes."""

    id: str
    section: str
    text: str


@dataclass
class StaticKB:
    """Everything the KB states independently of any case."""

    version: str
    criteria: dict[str, Criterion] = field(default_factory=dict)
    pathways: dict[str, str] = field(default_factory=dict)            # pathway -> section
    pathway_studies: dict[str, list[str]] = field(default_factory=dict)  # pathway -> CPTs
    all_of: dict[str, list[str]] = field(default_factory=dict)
    any_of: dict[str, list[str]] = field(default_factory=dict)
    none_of: dict[str, list[str]] = field(default_factory=dict)
    excludes: dict[str, list[str]] = field(default_factory=dict)       # criterion -> CPTs
    not_indicated: dict[str, list[str]] = field(default_factory=dict)  # criterion -> CPTs
    redirects: dict[str, list[str]] = field(default_factory=dict)      # criterion -> targets
    scopes: dict[str, list[str]] = field(default_factory=dict)         # pathway -> criteria
    codes: dict[str, Code] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    encoded: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)   # criteria whose text is words of our own
    _by_study: dict[str, list[str]] | None = field(default=None, repr=False)

    def children(self, criterion: str) -> list[tuple[str, str]]:
        """The sub-criteria of a criterion, each with how it combines (all/any/none)."""
        return ([("all", q) for q in self.all_of.get(criterion, [])]
                + [("any", q) for q in self.any_of.get(criterion, [])]
                + [("none", q) for q in self.none_of.get(criterion, [])])

    def pathways_for(self, cpt: str) -> list[str]:
        """Every pathway that names ``cpt`` among its studies (a fresh list, in KB order)."""
        if self._by_study is None:
            index: dict[str, list[str]] = {}
            for pathway, codes in self.pathway_studies.items():
                for code in codes:
                    index.setdefault(code, []).append(pathway)
            self._by_study = index
        return list(self._by_study.get(cpt, ()))

    def section_of(self, criterion: str) -> str:
        """The section a criterion or pathway belongs to."""
        if criterion in self.criteria:
            return self.criteria[criterion].section
        return self.pathways.get(criterion, "?")

    def is_label(self, criterion: str) -> bool:
        """The criterion's text is words of our own (``label/1``), not a quote of the guideline."""
        return criterion in self.labels

    def text_of(self, criterion: str) -> str:
        """The guideline words a criterion encodes."""
        found = self.criteria.get(criterion)
        return found.text if found else ""


def _append(table: dict[str, list[str]], key: str, value: str) -> None:
    table.setdefault(key, [])
    if value not in table[key]:
        table[key].append(value)


@cache
def static_kb() -> StaticKB:
    """Ground the installed KB without cases and collect its static atoms: once per process, or
    read from the cache on disk (:mod:`spinekb.kb.cache`) an earlier process wrote for the same
    KB files and the same code."""
    from spinekb.kb.cache import cached_json, installed_key

    key = installed_key(__file__)
    return static_from_json(cached_json("static", key, lambda: static_to_json(read_static(kb_text(), kb_version()))))


_TABLES = ("pathways", "pathway_studies", "all_of", "any_of", "none_of", "excludes", "not_indicated", "redirects",
           "scopes", "sections")


def static_to_json(kb: StaticKB) -> dict[str, Any]:
    """A :class:`StaticKB` as plain JSON data (for the cache on disk); tables keep their order."""
    data: dict[str, Any] = {name: getattr(kb, name) for name in _TABLES}
    data.update(version=kb.version, criteria=[astuple(c) for c in kb.criteria.values()],
                codes=[astuple(c) for c in kb.codes.values()], encoded=sorted(kb.encoded), labels=sorted(kb.labels))
    return data


def static_from_json(data: dict[str, Any]) -> StaticKB:
    """The :class:`StaticKB` that :func:`static_to_json` wrote."""
    return StaticKB(version=data["version"], **{name: data[name] for name in _TABLES},
                    criteria={row[0]: Criterion(*row) for row in data["criteria"]},
                    codes={row[0]: Code(*row) for row in data["codes"]},
                    encoded=set(data["encoded"]), labels=set(data["labels"]))


def read_static(text: str, version: str) -> StaticKB:
    """Ground a KB program text without cases and collect its static atoms (any KB folder:
    :class:`spinekb.kb.knowledge.KnowledgeBase`)."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], text)
    ctl.ground([("base", [])])
    kb = StaticKB(version=version)
    wanted = [("criterion", 3), ("pathway", 2), ("pathway_study", 2), ("all_of", 2), ("any_of", 2),
              ("none_of", 2), ("excludes", 2), ("not_indicated", 2), ("redirect", 2), ("scope", 2),
              ("cpt", 5), ("section", 2), ("encoded", 1), ("label", 1)]
    atoms = (atom for signature in wanted for atom in ctl.symbolic_atoms.by_signature(*signature))
    for atom in atoms:
        if not atom.is_fact:
            continue
        sym = atom.symbol
        name, args = sym.name, [render(a) for a in sym.arguments]
        if name == "criterion" and len(args) == 3:
            kb.criteria[args[0]] = Criterion(*args)
        elif name == "pathway" and len(args) == 2:
            kb.pathways[args[0]] = args[1]
        elif name == "pathway_study" and len(args) == 2:
            _append(kb.pathway_studies, *args)
        elif name in ("all_of", "any_of", "none_of", "excludes", "not_indicated", "redirect", "scope") \
                and len(args) == 2:
            _append(getattr(kb, {"redirect": "redirects", "scope": "scopes"}.get(name, name)), *args)
        elif name == "cpt" and len(args) == 5:
            code, modality, region, contrast, description = args
            kb.codes[code] = Code(code, modality, region, contrast, description, in_spine_table=True)
        elif name == "section" and len(args) == 2:
            kb.sections[args[0]] = args[1]
        elif name == "encoded" and len(args) == 1:
            kb.encoded.add(args[0])
        elif name == "label" and len(args) == 1:
            kb.labels.add(args[0])
    spine_table = {render(a.symbol.arguments[0]) for a in ctl.symbolic_atoms.by_signature("spine_table", 1)}
    for code, row in kb.codes.items():
        kb.codes[code] = Code(row.code, row.modality, row.region, row.contrast, row.description,
                              code in spine_table)
    return kb

"""The impact of a KB revision: decide the same cases under two KBs, and report every study whose
decision or deciding reasons changed, grouped by the criteria whose rules differ.

    >>> from spinekb.kb.knowledge import KnowledgeBase
    >>> report = impact(["examples/cases"], KnowledgeBase.installed(), KnowledgeBase.at("other/kb"))  # doctest: +SKIP
    >>> [(g.criterion, g.studies, g.flipped) for g in report.criteria]                # doctest: +SKIP
    [('sp1_0_face_to_face_60d', 3, 2)]

Which criteria's rules differ is read from the two KBs' syntax (:func:`spinekb.kb.revision.rule_diff`).
A changed study is put under a changed criterion when that criterion's status (``holds``) differs
between the two KBs for the case and the criterion lies below the study's pathways, exclusions or
cited criteria; failing that, under a changed criterion its records cite (a quote that changed).
A change no changed criterion explains is counted as *unattributed* (the decision program, the
code table, or rules of no criterion changed: the report lists those rules too).

Both KBs decide in this process, a chunk at a time, with every criterion traced; only the
changed studies are kept, so memory follows the changes, not the input.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Literal, Optional

from pydantic import Field

from spinekb.bridge.engine import DEFAULT_CHUNK, Engine, chunked
from spinekb.bridge.loading import read_sources
from spinekb.bridge.records import CaseError, Decided, Record, StudyDecision
from spinekb.kb.knowledge import KnowledgeBase
from spinekb.kb.revision import CriterionChange, Rule, RuleDiff, rule_diff
from spinekb.kb.static import StaticKB
from spinekb.kb.structure import family_of


class KbName(Record):
    """One side of a comparison: how the KB was named, and its version."""

    name: str = Field(description="installed, the folder as given, or git:<ref>.")
    version: str


class RuleText(Record):
    """One rule that only one of the two KBs has."""

    where: str = Field(description="kb/<file>:<line> in the KB that has it.")
    text: str = Field(description="The rule as clingo prints it (comments and spacing dropped).")


class StudyChange(Record):
    """A study decided differently, or for different reasons, under the other KB."""

    case_id: str
    source: str = ""
    cpt: str
    description: str = ""
    flipped: bool = Field(description="The decision itself changed (not only its reasons).")
    before: StudyDecision = Field(description="The study under the base KB.")
    after: StudyDecision = Field(description="The study under the other KB.")
    criteria: tuple[str, ...] = Field(description="The changed criteria (families) the change is put under; "
                                                  "empty when no changed criterion explains it.")
    status_changed: tuple[str, ...] = Field((), description=(
        "Criteria below the study whose status (met / not met) differs between the KBs for this case, "
        "those of the changed criteria first."))
    now_met: tuple[str, ...] = Field((), description="Of status_changed, those met under the other KB.")

    @property
    def key(self) -> str:
        return f"{self.case_id} {self.cpt}"


class CriterionImpact(Record):
    """A criterion whose rules differ, and the studies whose change it explains."""

    criterion: str = Field(description="The criterion family (sp1_0_face_to_face_60d, sp1_0_simultaneous).")
    section: str
    text: str = Field("", description="The guideline's words (the other KB's, else the base's).")
    status: Literal["changed", "added", "removed"]
    removed: tuple[RuleText, ...] = Field(description="Rules of its definition only the base KB has.")
    added: tuple[RuleText, ...] = Field(description="Rules of its definition only the other KB has.")
    studies: int = Field(0, description="Changed studies put under it.")
    cases: int = 0
    flipped: int = Field(0, description="Of them, decisions that changed.")
    denied_to_approved: int = 0
    approved_to_denied: int = 0
    changes: tuple[str, ...] = Field((), description="The changed studies, as 'case_id cpt'.")


class ImpactReport(Record):
    """Every study whose decision or reasons differ between two KBs, by the criteria that moved."""

    base: KbName
    other: KbName
    cases: int = Field(description="Cases decided under both KBs.")
    studies: int = Field(description="Studies decided under both KBs.")
    rejected: int = Field(0, description="Inputs that were not valid cases (decided under neither).")
    changed: int = Field(description="Studies whose decision or reasons changed.")
    flipped: int
    denied_to_approved: int
    approved_to_denied: int
    reasons_only: int
    unattributed: int = Field(description="Changed studies no changed criterion explains.")
    criteria: tuple[CriterionImpact, ...] = Field(description="Criteria whose rules differ, most studies first.")
    other_removed: tuple[RuleText, ...] = Field((), description="Rules of no criterion only the base KB has.")
    other_added: tuple[RuleText, ...] = Field((), description="Rules of no criterion only the other KB has.")
    study_changes: tuple[StudyChange, ...] = Field(description="Every changed study, in input order.")


def impact(sources: Iterable[str], base: KnowledgeBase, other: KnowledgeBase, stdin: IO[str] | None = None,
           chunk_size: int = DEFAULT_CHUNK, rules: RuleDiff | None = None,
           on_error: Callable[[CaseError], None] | None = None) -> ImpactReport:
    """Decide every case of ``sources`` under ``base`` and ``other``; the report of what changed.
    ``on_error`` is told of each input that is not a valid case (it is counted as rejected)."""
    rules = rules if rules is not None else rule_diff(base.statements, other.statements)
    comparer = _Comparer(base, other, rules)
    first, second = Engine(chunk_size, trace=True, knowledge=base), Engine(chunk_size, trace=True, knowledge=other)
    counts = {"cases": 0, "studies": 0, "rejected": 0}
    changes: list[StudyChange] = []
    for chunk in chunked(read_sources(sources, stdin), chunk_size):
        valid = [item for item in chunk if item.case is not None]
        counts["rejected"] += len(chunk) - len(valid)
        if on_error is not None:
            for item in chunk:
                if item.error is not None:
                    on_error(item.error)
        if not valid:
            continue
        cases = [item.case for item in valid if item.case is not None]
        for item, before, after in zip(valid, first.evaluate_chunk(cases), second.evaluate_chunk(cases), strict=True):
            counts["cases"] += 1
            counts["studies"] += len(before.studies)
            changes.extend(comparer.compare(item.source, before, after))
    return comparer.report(changes, **counts)


class _Comparer:
    """Compares one case's records under two KBs and files the changes by criterion."""

    def __init__(self, base: KnowledgeBase, other: KnowledgeBase, rules: RuleDiff) -> None:
        self.base, self.other, self.rules = base, other, rules
        self.static = (base.static, other.static)
        self.changed = rules.families
        self._below_study: dict[str, frozenset[str]] = {}

    def compare(self, source: str, before: Decided, after: Decided) -> Iterator[StudyChange]:
        """The changed studies of one case."""
        flipped_status: set[str] | None = None
        for old, new in zip(before.studies, after.studies, strict=True):
            if old == new:
                continue
            if flipped_status is None:
                flipped_status = before.atoms.holds ^ after.atoms.holds
            below = self._below(old, new)
            moved = sorted((c for c in flipped_status if c in below),
                           key=lambda c: (family_of(c) not in self.changed, c))
            families = sorted({family_of(c) for c in moved} & self.changed)
            if not families:
                cited = {family_of(c) for study in (old, new) for c in _cited(study)}
                families = sorted(cited & self.changed)
            yield StudyChange(case_id=before.case_id, source=source, cpt=old.cpt, description=new.description,
                              flipped=old.decision != new.decision, before=old, after=new,
                              criteria=tuple(families), status_changed=tuple(moved),
                              now_met=tuple(c for c in moved if c in after.atoms.holds))

    def _below(self, old: StudyDecision, new: StudyDecision) -> frozenset[str]:
        """Every criterion below what can decide the study: its pathways and the statements about
        its code in either KB, and whatever the two records cite."""
        fixed = self._below_study.get(old.cpt)
        if fixed is None:
            roots = set()
            for kb in self.static:
                roots.update(kb.pathways_for(old.cpt))
                for table in (kb.excludes, kb.not_indicated):
                    roots.update(q for q, codes in table.items() if old.cpt in codes)
                roots.update(kb.redirects)
            fixed = self._below_study[old.cpt] = self._closure(roots)
        extra = {c for study in (old, new) for c in _cited(study)} - fixed
        return fixed | self._closure(extra) if extra else fixed

    def _closure(self, roots: Iterable[str]) -> frozenset[str]:
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for kb in self.static:
                stack.extend(child for _, child in kb.children(node))
        return frozenset(seen)

    def report(self, changes: list[StudyChange], cases: int, studies: int, rejected: int) -> ImpactReport:
        """The report: totals, one group per changed criterion, every change."""
        groups = []
        for change in self.rules.criteria:
            mine = [c for c in changes if change.family in c.criteria]
            groups.append(self._group(change, mine))
        groups.sort(key=lambda g: (-g.studies, _section_order(g.section), g.criterion))
        flipped = [c for c in changes if c.flipped]
        return ImpactReport(
            base=KbName(name=self.base.name, version=self.base.version),
            other=KbName(name=self.other.name, version=self.other.version),
            cases=cases, studies=studies, rejected=rejected, changed=len(changes), flipped=len(flipped),
            denied_to_approved=sum(c.after.decision == "approved" for c in flipped),
            approved_to_denied=sum(c.after.decision == "denied" for c in flipped),
            reasons_only=len(changes) - len(flipped), unattributed=sum(not c.criteria for c in changes),
            criteria=tuple(groups), other_removed=_texts(self.rules.other_removed),
            other_added=_texts(self.rules.other_added), study_changes=tuple(changes))

    def _group(self, change: CriterionChange, mine: list[StudyChange]) -> CriterionImpact:
        section, text = _described(change.family, self.static[1]) or _described(change.family, self.static[0]) \
            or ("?", "")
        flipped = [c for c in mine if c.flipped]
        return CriterionImpact(
            criterion=change.family, section=section, text=text, status=change.status,
            removed=_texts(change.removed), added=_texts(change.added), studies=len(mine),
            cases=len({c.case_id for c in mine}), flipped=len(flipped),
            denied_to_approved=sum(c.after.decision == "approved" for c in flipped),
            approved_to_denied=sum(c.after.decision == "denied" for c in flipped),
            changes=tuple(c.key for c in mine))


def _cited(study: StudyDecision) -> set[str]:
    return {*study.criteria, *study.pathways, *(r.criterion for r in study.reasons if r.criterion),
            *(r.pathway for r in study.reasons if r.pathway)}


def _described(family: str, kb: StaticKB) -> Optional[tuple[str, str]]:
    """The section and words of a criterion family (its first declared id), if the KB has it."""
    for criterion in kb.criteria.values():
        if family_of(criterion.id) == family:
            return criterion.section, criterion.text
    if family in kb.pathways:
        return kb.pathways[family], ""
    return None


def _texts(rules: tuple[Rule, ...]) -> tuple[RuleText, ...]:
    return tuple(RuleText(where=r.where(), text=r.text) for r in rules)


def _section_order(section: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"[0-9]+", section))

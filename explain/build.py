"""Solver output + static KB structure -> the derivation graph of one study.

Nothing here decides policy: whether a criterion holds comes from the solver's ``holds/2``
atoms, which pathways support, rule out or come closest from ``supported/3``, ``excluded/3``,
``unmet/4``, ``gap/4``, ``closest/3`` and ``alternative/4``; the shape (which conditions a
pathway has, how they combine) from :func:`spinekb.kb.static.static_kb`; which case facts a
leaf reads and where its rules are from :func:`spinekb.kb.structure.kb_structure`.
"""
from __future__ import annotations

from typing import Literal

from spinekb.bridge.engine import Engine
from spinekb.kb.structure import KbStructure, kb_structure
from spinekb.kb.static import StaticKB
from spinekb.bridge.models import Case
from spinekb.bridge.records import Decided, SolverAtoms
from spinekb.explain.casefacts import CaseFact, readable_facts
from spinekb.explain.graph import (Alternative, Combine, Edge, EdgeState, Explanation, Need, Node,
                                   Option)

#: Case predicates every case has and every rule may read: not worth showing as evidence.
_UNSHOWN_INPUTS = frozenset({"case"})
_RELATION = {"all": "all of", "any": "any of", "none": "none of"}


class UnknownStudy(ValueError):
    """The study asked about is not among the case's requested studies."""


def tracing_engine() -> Engine:
    """An engine that reports every criterion's status, as explanations need."""
    return Engine(trace=True)


def explain_study(engine: Engine, case: Case, cpt: str | None = None) -> Explanation:
    """Decide ``case`` with ``engine`` and explain the decision on requested study ``cpt``
    (which may be left out when the case requests a single study).

    ``engine`` must report every criterion (:func:`tracing_engine`). Raises
    :class:`UnknownStudy` (one-line message) when the case does not request ``cpt``.
    """
    if not engine.trace:
        raise ValueError("explanations need every criterion's status: use tracing_engine()")
    requested = ", ".join(case.request.codes)
    if cpt is None:
        if len(case.request.codes) != 1:
            raise UnknownStudy(f"case {case.request.id} requests several studies ({requested}): "
                               "name the one to explain")
        cpt = case.request.codes[0]
    if cpt not in case.request.codes:
        raise UnknownStudy(f"study {cpt} is not requested by case {case.request.id} "
                           f"(it requests {requested})")
    return explain_result(engine.kb, case, engine.evaluate_one(case), cpt)


def explain_result(kb: StaticKB, case: Case, result: Decided, cpt: str,
                   structure: KbStructure | None = None) -> Explanation:
    """Explain study ``cpt`` of an already decided case (``result`` from ``Engine``)."""
    return _Builder(kb, structure or kb_structure(), case, result, cpt).build()


class _Builder:
    """Adds nodes and edges for one study; each criterion node is added once and shared."""

    def __init__(self, kb: StaticKB, structure: KbStructure, case: Case, result: Decided,
                 cpt: str) -> None:
        self.kb, self.structure, self.atoms = kb, structure, result.atoms
        self.facts: list[CaseFact] = readable_facts(case)
        decision: Literal["approved", "denied"] = (
            "approved" if self.atoms.decisions.get(cpt) == "approved" else "denied")
        code = kb.codes.get(cpt)
        self.explanation = Explanation(
            case_id=result.case_id, kb_version=result.kb_version, cpt=cpt,
            description=code.description if code else "", decision=decision, root=f"study:{cpt}")
        self.expanded: set[str] = set()
        self.linked: set[Edge] = set()  # the edges added so far, for a constant-time "once"

    # -- the graph ---------------------------------------------------------------------------
    def add(self, node: Node) -> None:
        """Add a node unless one with its key is there already."""
        self.explanation.nodes.setdefault(node.key, node)

    def link(self, parent: str, child: str, relation: str, state: EdgeState) -> None:
        """Add an edge once."""
        edge = Edge(parent, child, relation, state)
        if edge not in self.linked:
            self.linked.add(edge)
            self.explanation.edges.append(edge)

    def criterion(self, criterion: str, expand: bool = True) -> str:
        """Add a criterion (and, if ``expand``, everything below it); returns its key."""
        key = f"criterion:{criterion}"
        children = self.kb.children(criterion)
        combine: Combine = children[0][0] if children else "leaf"  # type: ignore[assignment]
        if len({how for how, _ in children}) > 1:
            combine = ""  # mixed shapes: each edge says how its child combines
        kind: Literal["pathway", "criterion"] = "pathway" if criterion in self.kb.pathways else "criterion"
        notes: list[str] = []
        if not children:
            rules = self.structure.rules_of(criterion)
            if rules:
                notes.append("rule " + ", ".join(r.where() for r in rules))
            else:
                notes.append("not encoded yet: no rule of the KB derives it")
        if criterion not in self.kb.criteria:
            notes.append("no criterion/3 text in the KB")
        self.add(Node(key, kind, f"{self.kb.section_of(criterion)} {criterion}",
                      self.kb.text_of(criterion), criterion in self.atoms.holds, combine,
                      self.kb.section_of(criterion), tuple(notes)))
        if expand and key not in self.expanded:
            self.expanded.add(key)
            if children:
                self.expand_children(criterion, key, children)
            else:
                self.expand_facts(criterion, key)
        return key

    def expand_children(self, criterion: str, key: str, children: list[tuple[str, str]]) -> None:
        """Link a composite to its conditions; each edge says whether that condition did its part."""
        holds = self.atoms.holds
        for how, child in children:
            child_holds = child in holds
            if how == "none":
                state: EdgeState = "unsatisfied" if child_holds else "satisfied"
            elif child_holds:
                state = "satisfied"
            elif how == "any" and criterion in holds:
                state = "not_needed"  # another branch of the any-of held
            else:
                state = "unsatisfied"
            # A branch nobody needed, or a none-of child that is absent as it should be, is
            # shown but not unfolded: listing everything that is absent explains nothing.
            unfold = state != "not_needed" and not (how == "none" and not child_holds)
            child_key = self.criterion(child, expand=unfold)
            self.link(key, child_key, _RELATION[how], state)

    def expand_facts(self, criterion: str, key: str) -> None:
        """Link a leaf to the case's facts of each predicate its rules read."""
        for predicate in sorted(self.structure.inputs_of(criterion) - _UNSHOWN_INPUTS):
            found = [f for f in self.facts if f.predicate == predicate]
            if not found:
                fact_key = f"nofact:{predicate}"
                self.add(Node(fact_key, "fact", predicate, f"no {predicate} fact in the case"))
                self.link(key, fact_key, "reads", "info")
            for fact in found:
                fact_key = f"fact:{fact.asp}"
                self.add(Node(fact_key, "fact", predicate, fact.text))
                self.link(key, fact_key, "reads", "info")

    # -- the study ---------------------------------------------------------------------------
    def build(self) -> Explanation:
        """The decision node, its pathways (supported, or every candidate) and the statements."""
        x, atoms, kb = self.explanation, self.atoms, self.kb
        approved = x.decision == "approved"
        notes = [f"case {x.case_id}", x.kb_version]
        if x.cpt in atoms.no_pathway:
            notes.append("no pathway of the encoded sections supports this study")
        self.add(Node(x.root, "decision", f"CPT {x.cpt} {x.description}".strip(),
                      x.decision.upper(), approved, notes=tuple(notes)))
        if approved:
            for pathway in sorted(atoms.supported.get(x.cpt, [])):
                self.link(x.root, self.criterion(pathway), "supported by", "satisfied")
        else:
            self.denial(atoms, kb)
        self.statements(atoms)
        remarks = [f"violation: {v}" for v in atoms.violations]
        x.remarks = tuple(remarks)
        return x

    def denial(self, atoms: SolverAtoms, kb: StaticKB) -> None:
        """Every candidate pathway, the closest ones' unmet conditions as needs, alternatives."""
        x = self.explanation
        gaps = atoms.gap.get(x.cpt, {})
        closest = sorted(atoms.closest.get(x.cpt, []))
        candidates = kb.pathways_for(x.cpt)
        # closest first, then by how many conditions each misses (the solver's unmet atoms)
        candidates.sort(key=lambda p: (p not in closest, gaps.get(p, 0)))
        for pathway in candidates:
            key = self.criterion(pathway)
            node = x.nodes[key]
            if pathway in gaps:
                extra = [f"{gaps[pathway]} unmet condition(s)"]
                if pathway in closest:
                    extra.insert(0, "closest pathway")
                x.nodes[key] = Node(node.key, node.kind, node.title, node.text, node.met,
                                    node.combine, node.section, (*extra, *node.notes))
            state: EdgeState = "satisfied" if pathway in atoms.holds else "unsatisfied"
            self.link(x.root, key, "candidate pathway", state)
        x.closest = tuple(closest)
        needs: list[Need] = []
        for pathway in closest:
            for condition in atoms.unmet.get((x.cpt, pathway), []):
                needs.append(self.need(pathway, condition))
        for criterion in atoms.excluded.get(x.cpt, []):
            needs.append(Need("", self.option(criterion), "exclusion"))
        x.needs = tuple(needs)
        alternatives = []
        for alt, pathway in sorted(set(atoms.alternatives.get(x.cpt, []))):
            code = kb.codes.get(alt)
            alternatives.append(Alternative(alt, code.description if code else "", pathway,
                                            kb.section_of(pathway)))
            alt_key = f"alternative:{alt}:{pathway}"
            self.add(Node(alt_key, "alternative", f"CPT {alt} {code.description if code else ''}".strip(),
                          f"would be supported by {kb.section_of(pathway)} {pathway}", True))
            self.link(x.root, alt_key, "instead", "info")
        x.alternatives = tuple(alternatives)

    def need(self, pathway: str, condition: str) -> Need:
        """An unmet condition as what the case would need, read off the graph's edges."""
        key = f"criterion:{condition}"
        node = self.explanation.nodes[key]
        edges = self.explanation.below(key)
        if node.combine == "any":
            chosen = edges
        else:  # all-of: the parts still missing; none-of: the parts that must go
            chosen = [e for e in edges if e.state == "unsatisfied"]
        options = tuple(self.option(e.child.removeprefix("criterion:")) for e in chosen)
        return Need(pathway, self.option(condition), node.combine, options)

    def option(self, criterion: str) -> Option:
        """A criterion as cited in a need: id, section, words."""
        return Option(criterion, self.kb.section_of(criterion), self.kb.text_of(criterion))

    def statements(self, atoms: SolverAtoms) -> None:
        """Exclusions, not-indicated statements, redirects and conflicts that applied."""
        x = self.explanation
        for criterion in atoms.excluded.get(x.cpt, []):
            self.link(x.root, self.criterion(criterion), "rules out", "unsatisfied")
        for criterion in atoms.advised_against.get(x.cpt, []):
            self.link(x.root, self.criterion(criterion), "not indicated", "info")
        for criterion, target in atoms.redirected:
            self.link(x.root, self.criterion(criterion), f"sends to {target}", "info")
        for cpt, pathway, criterion in atoms.conflicts:
            if cpt == x.cpt:
                self.link(f"criterion:{pathway}", self.criterion(criterion),
                          "conflicts with", "info")

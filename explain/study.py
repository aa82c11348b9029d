"""Build the structured explanation of one study: the answer, what would change it, the
documentation that would decide it, and every candidate pathway, from one decision.

The deciding reasons are the record's own (:func:`spinekb.bridge.engine.study_decision`, the
very function ``spinekb evaluate`` uses), so evaluate and explain give the same reasons. The
what-ifs come from the what-if program (:class:`spinekb.bridge.whatif.WhatIfSolver`); the
pathways and their conditions from the derivation graph (:mod:`spinekb.explain.build`).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from spinekb.bridge.engine import Engine
from spinekb.bridge.facts import CaseFact, readable_facts
from spinekb.bridge.models import Case
from spinekb.bridge.records import Decided, StudyDecision, review_action
from spinekb.bridge.whatif import EditSet, WhatIf, WhatIfSolver
from spinekb.explain.build import UnknownStudy, explain_result
from spinekb.explain.graph import Explanation
from spinekb.explain.model import (AnswerReason, ConditionStatus, EditSetWords, EditWords, FactRead, Instead,
                                   PathwayStatus, Question, Reading, StudyExplanation)
from spinekb.explain.words import (CaseWords, and_list, edit_words, headline, out_of_scope_says, question_words,
                                   reason_says, set_words, unmet_leaf_says, words)
from spinekb.kb.knowledge import KnowledgeBase
from spinekb.kb.static import StaticKB
from spinekb.kb.structure import KbStructure

#: Most decisive leaves, and most case facts, an answer reason names (the rest: --detail, JSON).
MAX_LEAVES = 6
MAX_FACTS = 4
#: How deep the JSON's pathway listing unfolds the closest (or supporting) pathways (--detail: all).
MAX_DEPTH = 2
_ANSWER_KINDS = ("excluded", "no_pathway", "unmet", "met")
_HOW: dict[str, Literal["all of", "any of", "none of"]] = {"all": "all of", "any": "any of", "none": "none of"}


def whatif_solver(engine: Engine) -> WhatIfSolver:
    """The engine's what-if solver (made once per engine, under the engine's KB)."""
    solver = getattr(engine, "_whatif", None)
    if solver is None:
        solver = WhatIfSolver(engine.knowledge)
        engine._whatif = solver
    return solver


def explain_study(engine: Engine, case: Case, cpt: str | None = None, what_if: bool = True) -> StudyExplanation:
    """Decide ``case`` with ``engine`` (a tracing engine: :func:`spinekb.explain.tracing_engine`)
    and explain requested study ``cpt`` (which may be left out when the case requests one study).

    ``what_if=False`` skips the what-if program (no edit sets; the record's denial_kind stands).
    Raises :class:`~spinekb.explain.build.UnknownStudy` when the case does not request ``cpt``.
    """
    if not engine.trace:
        raise ValueError("explanations need every criterion's status: use tracing_engine()")
    cpt = requested_study(case, cpt)
    decided = engine.evaluate_one(case)
    return explain_decided(engine.knowledge, case, decided, cpt, solver=whatif_solver(engine) if what_if else None)


def requested_study(case: Case, cpt: str | None) -> str:
    """``cpt``, checked against the case's requested studies (or the only one)."""
    requested = ", ".join(case.request.codes)
    if cpt is None:
        if len(case.request.codes) != 1:
            raise UnknownStudy(f"case {case.request.id} requests several studies ({requested}): "
                               "name the one to explain")
        return case.request.codes[0]
    if cpt not in case.request.codes:
        raise UnknownStudy(f"study {cpt} is not requested by case {case.request.id} (it requests {requested})")
    return cpt


def explain_decided(knowledge: KnowledgeBase, case: Case, decided: Decided, cpt: str,
                    solver: WhatIfSolver | None = None) -> StudyExplanation:
    """Explain study ``cpt`` of a case already decided by a tracing engine under ``knowledge``;
    ``solver``: the what-if solver (``None``: no edit sets)."""
    graph = explain_result(knowledge.static, case, decided, cpt, structure=knowledge.structure)
    study = next(s for s in decided.record.studies if s.cpt == cpt)
    found = solver.solve(case, decided, cpt) if solver is not None and study.decision == "denied" else None
    if found is not None:
        study = study.model_copy(update={"denial_kind": found.denial_kind})
    return _Builder(knowledge, case, decided, study, graph, found).build()


class _Builder:
    def __init__(self, knowledge: KnowledgeBase, case: Case, decided: Decided, study: StudyDecision,
                 graph: Explanation, found: WhatIf | None) -> None:
        self.knowledge, self.case, self.decided, self.study = knowledge, case, decided, study
        self.kb: StaticKB = knowledge.static
        self.structure: KbStructure = knowledge.structure
        self.graph, self.found = graph, found
        self.holds = decided.atoms.holds
        self.words = CaseWords(case)
        self._facts = readable_facts(case)
        self._lines: dict[str, list[str]] = {}

    def build(self) -> StudyExplanation:
        study = self.study
        what_if = tuple(self.edit_set(s) for s in self.found.sets) if self.found else ()
        documentation = self.questions()
        answer = self.answer(what_if)
        readings = tuple({(r.criterion, r.where): r for a in answer for r in a.readings}.values())
        explanation = StudyExplanation(
            case_id=self.case.request.id, kb_version=self.decided.record.kb_version,
            request_date=self.case.request.date, cpt=study.cpt, description=study.description,
            decision=study.decision, denial_kind=study.denial_kind, review_action=review_action(study),
            headline=headline(study.decision, study.denial_kind, study.cpt, study.description),
            answer=answer, readings=readings, what_if=what_if, documentation_needed=documentation,
            instead=self.instead(), statements=self.statements(), pathways=self.pathways())
        explanation._graph = self.graph
        return explanation

    # -- the answer ------------------------------------------------------------------------------
    def answer(self, what_if: tuple[EditSetWords, ...]) -> tuple[AnswerReason, ...]:
        reasons = [r for r in self.study.reasons if r.kind in _ANSWER_KINDS]
        # the conditions of the pathway the smallest what-if goes through come first: they decide
        routed = what_if[0].pathway if what_if else None
        reasons.sort(key=lambda r: r.kind == "unmet" and r.pathway != routed)
        found: list[AnswerReason] = []
        newly = {q for s in what_if for q in s.newly_met}
        for reason in reasons:
            if reason.kind == "unmet" and reason.criterion:
                leaves = self.decisive_leaves(reason.criterion, newly)
            elif reason.kind in ("excluded", "met") and reason.criterion:
                leaves = self.held_leaves(reason.criterion)
            else:
                leaves = []
            section = self.kb.section_of(reason.pathway) if reason.pathway else (reason.section or "")
            says = reason_says(reason, section, self.description(reason.target))
            if reason.kind == "unmet" and len(leaves) == 1 and leaves[0] != reason.criterion:
                says = unmet_leaf_says(reason, section, leaves[0], self.kb.section_of(leaves[0]),
                                       self.kb.text_of(leaves[0]), self.kb.is_label(leaves[0]))
            found.append(AnswerReason(
                kind=reason.kind, section=reason.section, criterion=reason.criterion, pathway=reason.pathway,
                text=reason.text, label=reason.label, target=reason.target,
                says=says, leaves=tuple(leaves),
                facts=self.facts(leaves), readings=self.readings(leaves)))
        scopes = [r for r in self.study.reasons if r.kind == "out_of_scope"]
        if scopes:
            episode = self.case.episode
            presenting = f"{words(episode.condition.value)}, {and_list([words(r) for r in episode.regions])}"
            found.append(AnswerReason(kind="out_of_scope", says=out_of_scope_says(scopes, presenting),
                                      facts=self.facts_of({"condition", "region"})))
        not_indicated = [r for r in self.study.reasons if r.kind == "not_indicated"]
        if self.study.decision == "denied":
            for reason in not_indicated:
                found.append(AnswerReason(kind="not_indicated", section=reason.section, criterion=reason.criterion,
                                          text=reason.text, label=reason.label,
                                          says=reason_says(reason, reason.section or "")))
        return tuple(found)

    def description(self, cpt: str | None) -> str:
        code = self.kb.codes.get(cpt or "")
        return code.description if code else ""

    def below(self, criterion: str) -> list[tuple[str, str]]:
        """(how, criterion) for ``criterion`` and everything under it, depth first."""
        out: list[tuple[str, str]] = []

        def walk(node: str, how: str) -> None:
            if any(node == q for _, q in out):
                return
            out.append((how, node))
            for child_how, child in self.kb.children(node):
                walk(child, child_how)

        walk(criterion, "all")
        return out

    def decisive_leaves(self, condition: str, newly: set[str]) -> list[str]:
        """The leaves under an unmet condition that decide it: those the what-if makes hold, or
        else the leaves that fail (a none-of's: those that hold and must not)."""
        leaves = [q for _, q in self.below(condition) if q in newly and not self.kb.children(q)]
        if leaves:
            return leaves[:MAX_LEAVES]
        failing: list[str] = []

        def walk(node: str, must_hold: bool) -> None:
            if len(failing) >= MAX_LEAVES:
                return
            children = self.kb.children(node)
            holds = node in self.holds
            if holds == must_hold:
                return
            if not children:
                failing.append(node)
                return
            for how, child in children:
                walk(child, (not must_hold) if how == "none" else must_hold)

        walk(condition, True)
        return failing

    def held_leaves(self, criterion: str) -> list[str]:
        """The leaves under a criterion that holds which carried it (for exclusions and approvals)."""
        found: list[str] = []

        def walk(node: str) -> None:
            children = self.kb.children(node)
            if not children:
                if node in self.holds and node not in found:
                    found.append(node)
                return
            for how, child in children:
                if how == "all" or (how == "any" and child in self.holds):
                    walk(child)

        walk(criterion)
        return found[:MAX_LEAVES]

    def facts(self, leaves: Iterable[str]) -> tuple[FactRead, ...]:
        inputs: set[str] = set()
        for leaf in leaves:
            inputs |= self.structure.inputs_of(leaf)
        return self.facts_of(inputs)

    def facts_of(self, inputs: set[str]) -> tuple[FactRead, ...]:
        found = []
        for predicate, index, says in self.words.of(inputs):
            rows = [f for f in self.graph_facts() if f.predicate in inputs and _same_thing(f, predicate, index)]
            found.append(FactRead(predicate=predicate, says=says, facts=tuple(f.text for f in rows)))
        return tuple(found)

    def graph_facts(self) -> list[CaseFact]:
        return self._facts

    def readings(self, leaves: Iterable[str]) -> tuple[Reading, ...]:
        """The ``% reading:`` notes in the comment block written just above the rules of ``leaves``."""
        found: list[Reading] = []
        for leaf in leaves:
            for location in self.structure.rules_of(leaf):
                lines = self.file_lines(location.file)
                start = location.line - 1  # the comment block directly above the rule
                while start > 0 and lines[start - 1].lstrip().startswith("%"):
                    start -= 1
                for note in self.knowledge.notes:
                    if note.kind == "reading" and note.file == location.file and start < note.line < location.line:
                        reading = Reading(criterion=leaf, text=note.text, where=note.where())
                        if reading not in found:
                            found.append(reading)
        return tuple(found)

    def file_lines(self, name: str) -> list[str]:
        lines = self._lines.get(name)
        if lines is None:
            path = self.knowledge.dir / name
            lines = self._lines[name] = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return lines

    # -- what would change it ------------------------------------------------------------------
    def edit_set(self, edit_set: EditSet) -> EditSetWords:
        edits = []
        for edit in edit_set.edits:
            criterion = edit.criteria[0] if edit.criteria else None
            edits.append(EditWords(
                action=edit.action, date=edit.date, criterion=criterion,
                section=self.kb.section_of(criterion) if criterion else None,
                text=self.kb.text_of(criterion) if criterion else "", says=edit_words(edit, self.case), edit=edit))
        return EditSetWords(pathway=edit_set.pathway, section=self.kb.section_of(edit_set.pathway),
                            resubmit=edit_set.resubmit, documentation=edit_set.documentation, edits=tuple(edits),
                            newly_met=edit_set.newly_met, says=set_words([e.says for e in edits]))

    def questions(self) -> tuple[Question, ...]:
        """The documentation that would decide it: every documentation edit of a set that only
        documents (the smallest such), as a question."""
        if self.found is None or self.found.denial_kind != "documentation":
            return ()
        sets = [s for s in self.found.sets if s.documentation] or (
            [self.found.documentation] if self.found.documentation else [])
        questions: list[Question] = []
        for edit_set in sets:
            for edit in edit_set.edits:
                criterion = edit.criteria[0] if edit.criteria else None
                question = Question(question=question_words(edit, self.case), criterion=criterion,
                                    section=self.kb.section_of(criterion) if criterion else None,
                                    text=self.kb.text_of(criterion) if criterion else "", action=edit.action)
                if all(q.question != question.question for q in questions):
                    questions.append(question)
        return tuple(questions)

    def instead(self) -> tuple[Instead, ...]:
        found: list[Instead] = []
        for reason in self.study.reasons:
            if reason.kind == "alternative" and reason.target:
                description = self.description(reason.target)
                found.append(Instead(kind="study", target=reason.target, description=description,
                                     section=reason.section, criterion=reason.pathway,
                                     says=f"CPT {reason.target} {description} would be supported "
                                          f"({reason.section} {reason.pathway})."))
            elif reason.kind == "referral" and reason.target:
                found.append(Instead(kind="referral", target=reason.target, section=reason.section,
                                     criterion=reason.criterion,
                                     says=f"image under {reason.target} ({reason.section} sends the case there)."))
        return tuple(found)

    def statements(self) -> tuple[AnswerReason, ...]:
        kinds = ("conflict",) if self.study.decision == "denied" else ("not_indicated", "conflict")
        return tuple(AnswerReason(kind=r.kind, section=r.section, criterion=r.criterion, pathway=r.pathway,
                                  text=r.text, label=r.label, says=reason_says(r, r.section or ""))
                     for r in self.study.reasons if r.kind in kinds)

    # -- every candidate pathway ---------------------------------------------------------------
    def pathways(self) -> tuple[PathwayStatus, ...]:
        atoms, cpt = self.decided.atoms, self.study.cpt
        in_scope = set(atoms.in_scope.get(cpt, []))
        closest = set(self.study.pathways) if self.study.decision == "denied" else set()
        candidates = self.kb.pathways_for(cpt)
        candidates.sort(key=lambda p: (p not in closest and p not in self.holds, p not in in_scope,
                                       self.unmet_count(p), p))
        return tuple(PathwayStatus(
            pathway=p, section=self.kb.section_of(p), text=self.kb.text_of(p), met=p in self.holds,
            addresses_case=p in in_scope or (p in self.holds), closest=p in closest, unmet=self.unmet_count(p),
            conditions=self.conditions(p, set(), deep=p in closest or p in self.holds, depth=1))
            for p in candidates)

    def unmet_count(self, pathway: str) -> int:
        return sum(1 for _, q in self.kb.children(pathway) if q not in self.holds)

    def conditions(self, criterion: str, seen: set[str], deep: bool, depth: int) -> tuple[ConditionStatus, ...]:
        """The conditions of ``criterion``; below them (``deep``) only what explains its status: the
        unmet parts of an unmet condition, the parts that carried a met one."""
        out = []
        deep = deep and depth <= MAX_DEPTH
        for how, child in self.kb.children(criterion):
            leaf = not self.kb.children(child)
            met = child in self.holds
            relevant = deep and not leaf and child not in seen and (met != (how == "none"))
            below: tuple[ConditionStatus, ...] = ()
            if deep and not leaf and child not in seen:
                found = self.conditions(child, seen | {child}, deep=True, depth=depth + 1)
                below = tuple(c for c in found if (c.met == met) or how == "none" or not met)
            out.append(ConditionStatus(
                criterion=child, section=self.kb.section_of(child), text=self.kb.text_of(child),
                met=met, how=_HOW[how],
                facts=self.leaf_facts(child) if leaf and deep else (),
                conditions=below if relevant or (deep and not met) else ()))
        return tuple(out)

    def leaf_facts(self, leaf: str) -> tuple[str, ...]:
        inputs = self.structure.inputs_of(leaf) - {"case"}
        return tuple(f.text for f in self.graph_facts() if f.predicate in inputs)


#: The case predicates that belong to one thing on record, by the kind of thing (argument 1 is its index).
_THINGS = {
    "evaluation": ("evaluation", "evaluation_outcome", "evaluation_by", "muscle_grade", "reflex_grade",
                   "sensory_loss", "sign", "progression"),
    "treatment": ("treatment", "treatment_outcome", "treatment_self_directed", "treatment_ongoing"),
    "imaging": ("imaging", "imaging_contrast", "imaging_result", "imaging_available", "imaging_level",
                "imaging_grade", "imaging_cobb"),
    "trauma": ("trauma", "trauma_factor", "trauma_region", "trauma_fall_feet", "trauma_fall_stairs"),
    "procedure": ("procedure", "procedure_region", "procedure_anterior", "procedure_approach",
                  "procedure_revision", "procedure_level", "procedure_hours"),
    "implant": ("implant", "implant_mri_conditional"),
}


def _same_thing(fact: CaseFact, predicate: str, index: int | None) -> bool:
    """Whether ``fact`` belongs to the thing said (its kind, and its index where it has one)."""
    kinds = _THINGS.get(predicate)
    if kinds is None:
        return fact.predicate == predicate or (predicate == "finding" and fact.predicate.startswith("finding")) \
            or (predicate == "onset" and fact.predicate == "changed") \
            or (predicate == "condition" and fact.predicate == "region") \
            or (predicate == "technique" and fact.predicate == "study_technique") \
            or (predicate == "plan" and fact.predicate.startswith("plan"))
    if fact.predicate not in kinds:
        return False
    return index is not None and fact.asp.split("(", 1)[1].split(",")[0].rstrip(")") == str(index)

"""Deciding one case costs time linear in its size: what clingo grounds grows with each list as the
list grows (issue "trust": a case may hold 10,000 entries per list, and is decided in about a second).

Nothing here is timed (``tools/case_cost.py`` and bench/ measure the seconds). Instead every rule
of the KB gets counting rules, and clingo counts, while it grounds a case, the matches of each
rule's body and of each element of its aggregates and conditions: the work of grounding the
rule. A rule that joins every entry of a list with every other ("some X on or after some Y"), or
an aggregate grounded once per entry, counts N * N matches; a linear one about N. For each list
kind, a case with N entries more and one with 2N more must count at most 2.2 times the matches of
the first, in all and rule by rule. Both hold, beside the entries added, a sweep of entries with
every value each field allows, and the entries added repeat the sweep's or take the few values
the rules compare most, on many days: the two decide alike and differ in size only.

Each of the KB's rewrites to linear rules (tools/case_cost.py names them), undone alone, fails a
test here; so does the KB before them.
"""
from __future__ import annotations

import datetime as dt
import typing
from collections import Counter
from functools import cache
from typing import Any

import clingo
import pytest
from clingo import ast

from spinekb.bridge import models
from spinekb.bridge.facts import case_facts
from spinekb.bridge.models import Case
from spinekb.kb.knowledge import KnowledgeBase
from spinekb.kb.vocabulary import vocabulary

N = 50  # entries added; the counts of N and 2N are compared
MAX_GROWTH = 2.2  # 2 for a linear cost, 4 for a quadratic one
MATCH = "case_size_match"
KINDS = ("evaluations", "treatments", "pain_scores", "procedures", "prior_imaging", "trauma", "findings",
         "implants", "plans")
REQUEST = dt.date(2024, 5, 1)
LEVELS = ("L4-5", "L5-S1", "C5-6", "T10", "L3")
KEY_DAYS = (0, 1, 6, 7, 8, 27, 28, 29, 41, 42, 43, 59, 60, 61, 89, 90, 91, 180, 181, 365, 366, 730, 731, 1095)


# --- counting what clingo grounds ------------------------------------------------------------------

def _variables(node: Any) -> set[str]:
    """The named variables at or below an AST node."""
    if isinstance(node, ast.AST):
        if node.ast_type == ast.ASTType.Variable:
            return {node.name} - {"_"}
        return set().union(*(_variables(getattr(node, key)) for key in node.child_keys))
    if isinstance(node, (list, tuple)) or type(node).__name__.endswith("Sequence"):
        return set().union(*(_variables(x) for x in node))
    return set()


def _binds(literal: Any, bound: set[str]) -> set[str]:
    """The variables a body literal binds, given those already bound: a positive atom binds its
    variables, ``X = term`` binds X once the term's are bound."""
    if literal.ast_type != ast.ASTType.Literal or literal.sign != ast.Sign.NoSign:
        return set()
    atom = literal.atom
    if atom.ast_type == ast.ASTType.SymbolicAtom:
        return _variables(atom)
    if atom.ast_type == ast.ASTType.Comparison and len(atom.guards) == 1 \
            and atom.guards[0].comparison == ast.ComparisonOperator.Equal:
        for side, other in ((atom.term, atom.guards[0].term), (atom.guards[0].term, atom.term)):
            if side.ast_type == ast.ASTType.Variable and _variables(other) <= bound:
                return {side.name}
    return set()


def _counting_rule(label: str, literals: list[Any]) -> str:
    """``case_size_match(label, (Vars))`` for every match of the plain literals of ``literals`` (an
    aggregate, or a literal that needs a variable only an aggregate binds, left out)."""
    plain = [lit for lit in literals if lit.ast_type == ast.ASTType.Literal and lit.atom.ast_type in (
        ast.ASTType.SymbolicAtom, ast.ASTType.Comparison, ast.ASTType.BooleanConstant)]
    bound: set[str] = set()
    while True:
        more = set().union(*(_binds(lit, bound) for lit in plain)) - bound
        if not more:
            break
        bound |= more
    kept = [lit for lit in plain if _variables(lit) <= bound]
    names = sorted(set().union(*(_variables(lit) for lit in kept)))
    return f'{MATCH}("{label}", ({", ".join(names)},)) :- {", ".join(map(str, kept)) or "#true"}.'


def counting_rules(name: str, text: str) -> list[str]:
    """For each rule of a KB file's base block: a rule counting its body's matches, and one per
    element of its aggregates and conditions counting that element's matches with the body."""
    rules: list[str] = []
    block = ["base"]

    def visit(statement: Any) -> None:
        if statement.ast_type == ast.ASTType.Program:
            block[0] = statement.name
        if statement.ast_type != ast.ASTType.Rule or block[0] != "base" or not statement.body:
            return
        where = f"{name}:{statement.location.begin.line}"
        body = list(statement.body)
        rules.append(_counting_rule(where, body))
        conditions = []
        for literal in body:
            if literal.ast_type == ast.ASTType.ConditionalLiteral:
                conditions.append(list(literal.condition))
            elif literal.ast_type == ast.ASTType.Literal and literal.atom.ast_type == ast.ASTType.BodyAggregate:
                conditions += [list(element.condition) for element in literal.atom.elements]
        if statement.head.ast_type in (ast.ASTType.Aggregate, ast.ASTType.Disjunction):
            conditions += [list(element.condition) for element in statement.head.elements]
        elif statement.head.ast_type == ast.ASTType.HeadAggregate:
            conditions += [list(element.condition.condition) for element in statement.head.elements]
        rules.extend(_counting_rule(f"{where}#{i}", body + condition) for i, condition in enumerate(conditions, 1))

    ast.parse_string(text, visit)
    return rules


def counted_program(files: dict[str, str]) -> str:
    """The KB made of ``files`` (name: text) with its counting rules."""
    program = "\n".join(files.values())
    counting = [rule for name, text in files.items() for rule in counting_rules(name, text)]
    return program + "\n#program base.\n" + "\n".join(counting) + "\n"


def matches(program: str, case: Case) -> Counter[str]:
    """The matches each rule (``file:line``, ``#i``: its i-th element) counts grounding ``case``."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], program)
    with ctl.backend() as backend:
        for symbol in case_facts(0, case):
            backend.add_rule([backend.add_atom(symbol)])
    ctl.ground([("base", [])])
    return Counter(atom.symbol.arguments[0].string for atom in ctl.symbolic_atoms.by_signature(MATCH, 2))


@cache
def counts(program: str, kind: str, size: int) -> Counter[str]:
    """:func:`matches` of the case with ``size`` entries more of list ``kind`` (none: one case)."""
    return matches(program, grown_case(kind if size else "all", size))


def superlinear(program: str, kind: str, n: int = N) -> list[str]:
    """What grows more than MAX_GROWTH times from ``n`` entries more of list ``kind`` (``all``:
    every list) to 2n more: the whole count, or a rule's, where it grew by at least n."""
    base, once, twice = (counts(program, kind, size) for size in (0, n, 2 * n))
    found = []
    total = [sum(count.values()) for count in (base, once, twice)]
    if total[2] - total[0] >= n and total[2] - total[0] > MAX_GROWTH * (total[1] - total[0]):
        found.append(f"all rules: {total[1] - total[0]} -> {total[2] - total[0]} matches")
    for rule in sorted(twice):
        grew, grew_twice = once[rule] - base[rule], twice[rule] - base[rule]
        if grew_twice >= n and grew_twice > MAX_GROWTH * grew:
            found.append(f"{rule}: {grew} -> {grew_twice} matches")
    return found


# --- the cases -----------------------------------------------------------------------------------

def _options(model: Any, name: str) -> tuple[Any, ...]:
    """The allowed values of a Literal field of a case model (Optional and tuples unwrapped)."""
    def walk(annotation: Any) -> tuple[Any, ...]:
        if typing.get_origin(annotation) is typing.Literal:
            return typing.get_args(annotation)
        return tuple(v for arg in typing.get_args(annotation) if arg is not type(None) for v in walk(arg))
    return walk(model.model_fields[name].annotation)


def _day(back: int) -> str:
    return (REQUEST - dt.timedelta(days=back)).isoformat()


def _pick(options: Any, i: int) -> Any:
    options = tuple(options)
    return options[i % len(options)]


def sweep(kind: str) -> list[dict[str, Any]]:
    """Entries of list ``kind`` that hold every value its fields allow, on the days the KB's
    windows end (every case holds them)."""
    out: list[dict[str, Any]] = []
    for k, day in enumerate(KEY_DAYS):
        if kind == "evaluations":
            out.append({"date": _day(day), "mode": _pick(_options(models.Evaluation, "mode"), k),
                        "kind": _pick(_options(models.Evaluation, "kind"), k),
                        "outcome": _pick(_options(models.Evaluation, "outcome"), k // 3),
                        "exam": {"muscles": [{"muscle": m, "side": _pick(("left", "right", "bilateral"), k),
                                              "grade": (k + g) % 6}
                                             for g, m in enumerate(_options(models.MuscleGrade, "muscle"))],
                                 "reflexes": [{"reflex": r, "side": "left", "grade": (k + g) % 5}
                                              for g, r in enumerate(_options(models.ReflexGrade, "reflex"))],
                                 "sensory": [{"distribution": d} for d in _options(models.SensoryLoss, "distribution")],
                                 "signs": [{"sign": s, "result": _pick(("positive", "negative"), k)}
                                           for s in _options(models.SignResult, "sign")],
                                 "progression": list(_options(models.Exam, "progression")) if k % 2 else []}})
        elif kind == "treatments":
            out.append({"kind": _pick(_options(models.Treatment, "kind"), k),
                        "start": _day(day + _pick((7, 28, 42, 60, 400), k)), **({"end": _day(day)} if k % 5 else {}),
                        "outcome": _pick(_options(models.Treatment, "outcome"), k),
                        "directed_by": _pick(("provider", "self"), k // 3)})
        elif kind == "pain_scores":
            out.append({"date": _day(day), "vas": k % 11})
        elif kind == "procedures":
            out.append({"kind": _pick(_options(models.Procedure, "kind"), k), "date": _day(day),
                        "region": _pick(_options(models.Procedure, "region"), k), "level": _pick(LEVELS, k),
                        "approach": _pick(_options(models.Procedure, "approach"), k), "revision": k % 2 == 0})
        elif kind == "prior_imaging":
            out += [{"modality": _pick(_options(models.PriorImaging, "modality"), m),
                     "region": _pick(_options(models.PriorImaging, "region"), m // 2 + k // 13), "date": _day(day),
                     "result": list(_options(models.PriorImaging, "result"))[k % 2::2],
                     "contrast": _pick(_options(models.PriorImaging, "contrast"), m + k),
                     "available": k % 3 != 0, "level": _pick(LEVELS, k)} for m in (2 * k, 2 * k + 1)]
        elif kind == "trauma":
            out.append({"date": _day(day), "mechanism": list(_options(models.Trauma, "mechanism"))[k % 3::3],
                        "regions": list(_options(models.Trauma, "regions")), "fall_height_feet": k})
        elif kind == "findings":
            out += [{"term": t, "date": _day(day), "level": _pick(LEVELS, k), "side": _pick(("left", "right"), k)}
                    for t in ("new_neurologic_deficit", "severe_spinal_pain")]
        elif kind == "implants" and k < 2:
            out += [{"kind": i, "mri_conditional": k == 0} for i in _options(models.Implant, "kind")]
        elif kind == "plans" and k < 3:
            out += [{"kind": p, "region": _pick(("lumbar", "cervical", "thoracic"), k), "level": _pick(LEVELS, k)}
                    for p in _options(models.Plan, "kind")]
    return out


def entry(kind: str, i: int) -> dict[str, Any]:
    """Entry ``i`` added to list ``kind``: an odd one repeats an entry of the sweep; an even one
    takes the few values the KB's rules compare most, on a day of the last four years (half of
    such evaluations within the last 60 days)."""
    if i % 2:
        entries = sweep(kind)
        return entries[(i // 2) % len(entries)]
    day, j = (i * 397) % 1460, i // 2
    if kind == "evaluations":
        return {"date": _day((i * 7) % 120), "mode": _pick(("in_person", "telephone"), j),
                "kind": _pick(("initial", "reevaluation", "reevaluation", "other", "reevaluation"), j),
                "outcome": _pick(_options(models.Evaluation, "outcome"), j // 3),
                "exam": {"muscles": [{"muscle": "knee_extension", "side": "left", "grade": _pick(range(6), j // 2)}],
                         "progression": [_pick(("motor", "sensory", "reflex"), j)] if j % 4 == 0 else []}}
    if kind == "treatments":
        return {"kind": _pick(("physical_therapy", "spinal_orthosis", "home_exercise", "nsaids"), j),
                "start": _day(day + _pick((7, 30, 45, 60, 400), j // 3)), **({"end": _day(day)} if j % 9 else {}),
                "outcome": _pick(_options(models.Treatment, "outcome"), j // 5)}
    if kind == "pain_scores":
        return {"date": _day(day), "vas": _pick(range(11), j)}
    if kind == "procedures":
        kinds = ("fusion", "laminectomy", "fusion", "kyphoplasty", "vertebroplasty", "posterior_fossa_decompression")
        return {"kind": _pick(kinds, j), "date": _day(day), "region": "lumbar"}
    if kind == "prior_imaging":
        return {"modality": _pick(("xray", "xray", "mri"), j),
                "region": _pick(("lumbar", "sacroiliac", "lumbar", "brain"), j // 3), "date": _day(day),
                "result": [_pick(("normal", "progression", "normal", "syrinx", "no_progression"), j)]}
    if kind == "trauma":
        return {"date": _day(day), "mechanism": [_pick(("fall", "motor_vehicle_collision", "sports"), j)]}
    if kind == "findings":
        return {"term": _pick(("new_neurologic_deficit", "severe_spinal_pain"), j), "date": _day(day)}
    if kind == "implants":
        return {"kind": _pick(_options(models.Implant, "kind"), j)}
    if kind == "plans":
        return {"kind": _pick(_options(models.Plan, "kind"), j), "region": "lumbar"}
    raise ValueError(kind)


@cache
def grown_case(kind: str, n: int) -> Case:
    """A valid case: every list holds its sweep, and list ``kind`` (``all``: every list) ``n``
    entries more; every finding of the vocabulary is documented (so that no rule is skipped for
    want of one)."""
    case: dict[str, Any] = {
        "request": {"id": f"{kind}-{n}", "date": REQUEST.isoformat(), "cpt": ["72148", "72131", "72141", "72195"],
                    "purpose": "diagnosis"},
        "patient": {"age": 54},
        "episode": {"regions": ["lumbar", "cervical"], "condition": "low_back_pain", "onset": _day(1500)},
        "findings": [{"term": term} for term in sorted(vocabulary())]}
    for part in KINDS:
        added = n if kind in (part, "all") else 0
        case[part] = case.get(part, []) + sweep(part) + [entry(part, i) for i in range(added)]
    return Case.model_validate(case)


# --- the tests -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kb_files() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in KnowledgeBase.installed().files}


@pytest.fixture(scope="module")
def program(kb_files: dict[str, str]) -> str:
    return counted_program(kb_files)


@pytest.mark.parametrize("kind", KINDS + ("all",))
def test_grounding_grows_linearly_with_each_list(program: str, kind: str):
    """N and 2N entries more of one list (``all``: of every list at once, so that a join of two
    lists shows) cost at most 2.2 times as many matches, in all and rule by rule."""
    assert superlinear(program, kind) == []


def test_the_count_sees_a_join_of_a_list_with_itself(kb_files: dict[str, str]):
    """The count is not blind: "some evaluation after some other", joined pairwise, grows 4x."""
    quadratic = "case_size_pair(C) :- evaluation(C, E1, D1, _, _), evaluation(C, E2, D2, _, _), D1 < D2.\n"
    found = superlinear(counted_program({**kb_files, "quadratic.lp": quadratic}), "evaluations")
    assert any(line.startswith("quadratic.lp:1:") for line in found), found


def test_the_count_sees_an_aggregate_grounded_once_per_entry(kb_files: dict[str, str]):
    """... and so does a ``#max`` whose bound is a body variable (one aggregate per entry)."""
    quadratic = "case_size_last(C, S) :- pain_score(C, D, S), D = #max{ D2 : pain_score(C, D2, _) }.\n"
    found = superlinear(counted_program({**kb_files, "quadratic.lp": quadratic}), "pain_scores")
    assert any(line.startswith("quadratic.lp:1#1:") for line in found), found


def test_the_cases_are_alike_but_for_their_size():
    """The cases compared differ in one list's length only, not in the values it holds."""
    small, large = grown_case("evaluations", N), grown_case("evaluations", 2 * N)
    assert len(large.evaluations) - len(small.evaluations) == N
    assert len(large.treatments) == len(small.treatments)
    assert {e.mode for e in large.evaluations} == {e.mode for e in small.evaluations}

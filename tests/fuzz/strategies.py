"""Hypothesis strategies for cases, read off the case models (``bridge/models.py``), and the
mutations that turn a valid case into a hostile or careless one.

:func:`valid_cases` walks the pydantic models field by field (Literal and Enum values, integer
bounds, tuple lengths, nested models), so a field added to the models is fuzzed without an edit
here. What the annotations cannot say is supplied by name: terms from the vocabulary, CPT codes
from the KB's code table, vertebral levels; dates are drawn as days before the request and
ordered where the models require it (a treatment's end after its start, ...).
"""
from __future__ import annotations

import datetime as dt
import functools
import types
import typing
from enum import Enum
from typing import Any, get_args, get_origin

import annotated_types
from hypothesis import strategies as st
from pydantic import BaseModel

from spinekb.bridge import models
from spinekb.bridge.models import Case
from spinekb.kb.vocabulary import vocabulary
from spinekb.kb.static import static_kb

#: How many entries a generated list holds at most (the limits are fuzzed by mutation).
LIST_SIZE = 3
#: How far back generated dates go, in days before the request.
HISTORY_DAYS = 800

ASP_PAYLOADS = (
    "a. #program base. approved(X) :- case(X).",
    'x). holds(0, sp5_1_p_mri). #show. %',
    "#include \"/etc/passwd\".",
    ":- not approved(0, \"72148\").",
    "decision(0,\"72148\",approved).",
    "#script (python) import os; os.system('id') #end.",
    "\"\\\") :- . %*",
)

ODD_STRINGS = (
    "", " ", "\u00a0", "\u200b", "é", "Ω" * 3, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "🙂", "\ufeffbom", "a\u0301", "\u202eevil",
    "null", "true", "0", "-1", "1e309", "NaN", "[]", "{}", "\\", "\"", "'", "%", "#", ".", "_",
    "L4-5", "l4_l5", "72148 ", " 72148", "LUMBAR", "Lumbar", "lumbar\n", "x" * 100_000,
)

EDGE_DATES = ("0001-01-01", "9999-12-31", "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10",
              "2024-01-32", "1970-01-01", "2024-05-01T00:00:00", "2024-05-01Z", "+2024-05-01", "24-05-01",
              "2024/05/01", "2024-5-1")

EDGE_NUMBERS = (-1, 0, 1, 5, 9, 10, 130, 131, 2**31, -(2**31) - 1, 2**63, 10**40, 1.5, -0.0, 1e308, True, False)

ROOTS = ("C5", "C6", "C7", "T10", "L3", "L4", "L5", "S1")
LEVELS = ("L5", "L4-5", "L4-L5", "L5-S1", "T9", "C5-6", "T12-L1", "S1")


class Day(int):
    """A date while a case is drawn: days before the request (the request date is drawn last)."""


def _constraints(metadata: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in metadata:
        for name in ("ge", "le", "min_length", "max_length"):
            if isinstance(item, getattr(annotated_types, {"ge": "Ge", "le": "Le", "min_length": "MinLen",
                                                           "max_length": "MaxLen"}[name])):
                found[name] = getattr(item, name)
    return found


_BY_NAME: dict[tuple[str, str], st.SearchStrategy[Any]] = {}


def _named() -> dict[tuple[str, str], st.SearchStrategy[Any]]:
    """Fields whose valid values the annotations cannot state."""
    if not _BY_NAME:
        codes = sorted(static_kb().codes)
        code = st.sampled_from(codes)
        _BY_NAME[("RequestedStudy", "code")] = code
        study = st.one_of(code, st.deferred(lambda: model_strategy(models.RequestedStudy)))
        level = st.sampled_from(LEVELS)
        root = st.sampled_from(ROOTS)
        time = st.times().map(lambda t: t.replace(microsecond=0).isoformat())
        _BY_NAME.update({
            ("Request", "id"): st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40),
            ("Request", "cpt"): st.lists(study, min_size=1, max_size=3,
                                         unique_by=lambda item: item if isinstance(item, str) else item["code"]),
            ("Request", "time"): time,
            ("Procedure", "time"): time,
            ("Finding", "term"): st.sampled_from(sorted(vocabulary())),
            ("Finding", "level"): level, ("PriorImaging", "level"): level,
            ("Procedure", "level"): level, ("Plan", "level"): level,
            ("MuscleGrade", "root"): root, ("SensoryLoss", "root"): root,
            ("Patient", "age"): st.integers(0, models.MAX_AGE),
            ("Patient", "birth_date"): st.integers(0, 365 * models.MAX_AGE - 100).map(Day),
        })
    return _BY_NAME


def for_annotation(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    """Valid JSON-ready values of one annotation (constraints from pydantic's field metadata)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = get_args(annotation)
        return for_annotation(inner, [*metadata, *extra])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        strategies = [for_annotation(a, metadata) for a in options]
        return st.one_of(st.none(), *strategies) if len(options) < len(get_args(annotation)) else st.one_of(*strategies)
    if origin is typing.Literal:
        return st.sampled_from(get_args(annotation))
    if origin is tuple:
        bounds = _constraints(metadata)
        low = bounds.get("min_length", 0)
        return st.lists(for_annotation(get_args(annotation)[0], []), min_size=low, max_size=max(low, LIST_SIZE))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from([member.value for member in annotation])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_strategy(annotation)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        bounds = _constraints(metadata)
        return st.integers(bounds.get("ge", -1000), bounds.get("le", 1000))
    if annotation is dt.date:
        return st.integers(0, HISTORY_DAYS).map(Day)
    if annotation is str:
        return st.text(max_size=20)
    raise NotImplementedError(f"no strategy for {annotation!r}: add one to tests/fuzz/strategies.py")


#: Every (model, field) a strategy draws (so a test can hold the strategies to the models).
FIELDS_DRAWN: set[tuple[str, str]] = set()


@functools.cache
def model_strategy(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Valid JSON-ready dicts of one model: required fields always, optional ones sometimes."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, info in model.model_fields.items():
        FIELDS_DRAWN.add((model.__name__, name))
        named = _named().get((model.__name__, name))
        strategy = named if named is not None else for_annotation(info.annotation, list(info.metadata))
        (required if info.is_required() else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def _dates(value: Any, request: dt.date) -> Any:
    """Every Day of a drawn case as an ISO date counted back from ``request``."""
    if isinstance(value, Day):
        return (request - dt.timedelta(days=int(value))).isoformat()
    if isinstance(value, dict):
        return {k: _dates(v, request) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v, request) for v in value]
    return value


def _ordered(case: dict[str, Any]) -> dict[str, Any]:
    """The orderings the models require: changed after onset, end after start; age or birth date."""
    episode = case["episode"]
    if episode.get("onset") is not None and episode.get("changed") is not None:
        episode["onset"], episode["changed"] = sorted([episode["onset"], episode["changed"]])
    for treatment in case.get("treatments", []):
        if treatment.get("end") is not None:
            treatment["start"], treatment["end"] = sorted([treatment["start"], treatment["end"]])
    patient = case["patient"]
    if patient.get("age") is not None and patient.get("birth_date") is not None:
        del patient["birth_date"]
    if patient.get("age") is None and patient.get("birth_date") is None:
        patient["age"] = 54
    return case


@st.composite
def valid_cases(draw: st.DrawFn) -> dict[str, Any]:
    """A valid case as JSON-ready data."""
    drawn = draw(model_strategy(Case))
    request = draw(st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)))
    drawn["request"]["date"] = Day(0)
    return _ordered(_dates(drawn, request))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (keys and indexes), the root excluded."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def string_paths(value: Any) -> list[tuple[Any, ...]]:
    """The paths of every string of a JSON value."""
    return [p for p in paths(value) if isinstance(get(value, p), str)]


def get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced (or deleted when ``new`` is DELETE)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if not rest and new is DELETE:
            copy.pop(head, None)
        else:
            copy[head] = replaced(value[head], rest, new)
        return copy
    copy_list = list(value)
    if not rest and new is DELETE:
        del copy_list[head]
    else:
        copy_list[head] = replaced(value[head], rest, new)
    return copy_list


DELETE = object()

wrong_values = st.one_of(
    st.sampled_from(EDGE_NUMBERS), st.sampled_from(EDGE_DATES), st.sampled_from(ODD_STRINGS),
    st.sampled_from(ASP_PAYLOADS), st.none(), st.just([]), st.just({}), st.just([[[[]]]]),
    st.just({"a": 1}), st.text(max_size=30), st.integers(), st.floats(allow_nan=False),
    st.lists(st.sampled_from(ODD_STRINGS[:10]), max_size=3),
)


@st.composite
def mutated_cases(draw: st.DrawFn) -> Any:
    """A valid case with one to three careless or hostile changes: wrong types, missing and
    unknown fields, huge and odd strings, ASP syntax, dates and numbers at the edges."""
    case: Any = draw(valid_cases())
    for _ in range(draw(st.integers(1, 3))):
        where = paths(case)
        how = draw(st.sampled_from(["replace", "replace", "delete", "unknown", "asp", "wrap"]))
        if not where or how == "unknown":
            target = draw(st.sampled_from([()] + [p for p in where if isinstance(get(case, p), dict)]))
            key = draw(st.sampled_from(["weight", "notes", "Request", "id ", "__proto__", "é", "x" * 300]))
            case = replaced(case, target, {**get(case, target), key: draw(wrong_values)}) if target else {
                **case, key: draw(wrong_values)}
            continue
        path = draw(st.sampled_from(where))
        if how == "delete":
            case = replaced(case, path, DELETE)
        elif how == "asp":
            case = replaced(case, path, draw(st.sampled_from(ASP_PAYLOADS)))
        elif how == "wrap":
            case = replaced(case, path, [get(case, path)])
        else:
            case = replaced(case, path, draw(wrong_values))
    return case

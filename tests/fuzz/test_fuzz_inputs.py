"""Fuzzing the edge (issue 8): valid cases drawn from the case models, then mutated (wrong types,
missing and unknown fields, huge and odd strings, ASP syntax in every string field, dates and
numbers at the edges), plus arbitrary bytes and YAML text. Properties: no exception escapes,
every input gets exactly one record in input order, an error is one short line naming a field
path, and injected text never changes a decision.

`make test` runs a small budget; `make fuzz` (SPINEKB_FUZZ=long) a large one, and prints how
many inputs were tried."""
from __future__ import annotations

import io
import json
import re

import yaml
from budget import budget, tried
from hypothesis import given
from hypothesis import strategies as st
from strategies import (ASP_PAYLOADS, FIELDS_DRAWN, model_strategy, mutated_cases, replaced, string_paths,
                        valid_cases)

from spinekb.bridge.batch import as_json_line, decide_loaded, render_batch
from spinekb.bridge.engine import Engine
from spinekb.bridge.loading import (MAX_MESSAGE_CHARS, RawInput, raw_yaml, read_sources, validate_json,
                                    validate_raw)
from spinekb.bridge.models import QUOTE_CHARS, Case

ENGINE = Engine()

#: A validation error names a field path first (``treatments[1].end: ...``), or is one of the
#: messages about the document as a whole.
_STEP = r"(?:[^\W\d]\w*|'[^']*'|\"[^\"]*\")(?: \(\d+ characters\))?(?:\[\d+\])*"
FIELD_PATH = re.compile(rf"^{_STEP}(?:\.{_STEP})*: \S")
WHOLE_DOCUMENT = ("invalid JSON: ", "invalid YAML: ", "nested more than ", "case is ", "not UTF-8 text",
                  "Input should be a valid dictionary", "Input should be an object")


def assert_good_message(message: str) -> None:
    """One line, short, a field path first (or a whole-document problem), no long quotation."""
    assert "\n" not in message and "\r" not in message
    assert len(message) <= MAX_MESSAGE_CHARS, message
    assert FIELD_PATH.match(message) or message.startswith(WHOLE_DOCUMENT), message
    assert not re.search(r"(.)\1{" + str(QUOTE_CHARS + 5) + ",}", message), f"long run quoted: {message[:120]}"


@budget(quick=30, long=3000)
@given(valid_cases())
def test_cases_drawn_from_the_models_are_valid(case):
    """The generator is right (so a rejection below is the mutation's doing, never the draw's)."""
    tried("valid")
    loaded = validate_json("drawn", json.dumps(case))
    assert loaded.error is None, (loaded.error, case)


@budget(quick=150, long=40_000)
@given(mutated_cases())
def test_a_mutated_case_is_a_case_or_one_short_line_naming_a_field(case):
    """JSON: validation never raises, and an error is one short line naming the field path."""
    tried("mutated-json")
    loaded = validate_json("fuzz", json.dumps(case, ensure_ascii=False))
    assert (loaded.case is None) != (loaded.error is None)
    if loaded.error is not None:
        assert_good_message(loaded.error.error)
        assert loaded.error.case_id is None or len(loaded.error.case_id) <= 200


@budget(quick=40, long=10_000)
@given(mutated_cases())
def test_a_mutated_yaml_case_is_a_case_or_one_short_line(case):
    """The same through the YAML reader."""
    tried("mutated-yaml")
    raw = raw_yaml("fuzz.yaml", yaml.safe_dump(case, allow_unicode=True).encode("utf-8", "surrogatepass"))
    loaded = validate_raw(raw)
    assert (loaded.case is None) != (loaded.error is None)
    if loaded.error is not None:
        assert_good_message(loaded.error.error)


@budget(quick=150, long=20_000)
@given(st.text(max_size=400))
def test_any_yaml_text_is_read_or_refused_in_one_line(text):
    """Arbitrary YAML text never raises out of the reader."""
    tried("yaml-text")
    raw = raw_yaml("fuzz.yaml", text.encode("utf-8", "surrogatepass"))
    loaded = validate_raw(raw)
    if loaded.error is not None:
        assert "\n" not in loaded.error.error and len(loaded.error.error) <= MAX_MESSAGE_CHARS


@budget(quick=150, long=20_000)
@given(st.lists(st.one_of(st.binary(max_size=200), st.sampled_from([b"\r", b"\r\r", b"{}\r", b"\xff\xfe",
                                                                      b'{"request": {}}', b"[" * 500])),
                max_size=12))
def test_any_bytes_on_stdin_give_one_outcome_per_non_blank_line(chunks):
    """Arbitrary bytes split at \\n only: one outcome per non-blank line, numbered as the line."""
    data = b"\n".join(chunks)
    lines = data.split(b"\n")
    expected = [f"<stdin>:{n}" for n, text in enumerate(lines, start=1) if text.strip()]
    tried("stdin-bytes", len(expected))
    items = list(read_sources(["-"], stdin=io.BytesIO(data)))
    assert [item.source for item in items] == expected
    for item in items:
        assert item.case is not None or "\n" not in item.error.error


line_kinds = st.one_of(valid_cases().map(lambda c: ("valid", c)), mutated_cases().map(lambda c: ("mutated", c)),
                       st.binary(max_size=40).map(lambda b: ("bytes", b)))


@budget(quick=4, long=300)
@given(st.lists(line_kinds, min_size=1, max_size=30))
def test_a_batch_gives_every_input_exactly_one_record_in_order(lines):
    """Valid, mutated and garbage lines in one batch: one record per non-blank line, in order;
    every valid case decided, every rejected one an error record with its line number."""
    data = b"\n".join(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
                      if kind != "bytes" else value.replace(b"\n", b" ") for kind, value in lines)
    counted = [n for n, text in enumerate(data.split(b"\n"), start=1) if text.strip()]
    tried("batch", len(counted))
    rendered = list(render_batch(["-"], as_json_line, stdin=io.BytesIO(data)))
    assert len(rendered) == len(counted)
    for number, (kind, value), output in zip(counted, [lines[n - 1] for n in counted], rendered, strict=True):
        record = json.loads(output.text)
        if kind == "valid":
            assert "studies" in record and record["case_id"] == value["request"]["id"], record
        elif "error" in record:
            assert record["source"] == f"<stdin>:{number}" and output.error is not None
            assert "internal error" not in record["error"], record


@budget(quick=4, long=200)
@given(st.lists(valid_cases(), min_size=1, max_size=12), st.sampled_from(ASP_PAYLOADS), st.data())
def test_injected_text_never_changes_a_decision(cases, payload, data):
    """ASP syntax as the id decides exactly like the plain case; in any other string field (each
    from a closed list) it is rejected, so it never reaches clingo."""
    hostile = [replaced(case, ("request", "id"), payload) for case in cases]
    items = [validate_json(f"c{i}", json.dumps(case)) for i, case in enumerate([*cases, *hostile])]
    tried("injection", len(items))
    outcomes = decide_loaded(ENGINE, items)
    plain, injected = outcomes[:len(cases)], outcomes[len(cases):]
    for a, b in zip(plain, injected, strict=True):
        assert a.to_json()["studies"] == b.to_json()["studies"]
        assert a.atoms.holds == b.atoms.holds and b.case_id == payload
    case = cases[0]
    for path in string_paths(case):
        if path == ("request", "id"):
            continue
        if data.draw(st.booleans()):  # a sample of the fields, so each example stays quick
            tried("injection")
            loaded = validate_json("field", json.dumps(replaced(case, path, payload)))
            assert loaded.error is not None, f"{path} accepted {payload!r}"


def test_the_fuzz_strategies_draw_every_field_of_every_model():
    """A field the models gain is drawn without an edit to the strategies (no silent gap)."""
    from pydantic import BaseModel

    model_strategy(Case)
    expected: set[tuple[str, str]] = set()
    stack: list[type[BaseModel]] = [Case]
    while stack:
        model = stack.pop()
        for name, info in model.model_fields.items():
            expected.add((model.__name__, name))
            stack.extend(t for t in _types_in(info.annotation) if issubclass(t, BaseModel) and t is not model)
    assert expected <= FIELDS_DRAWN


def _types_in(annotation) -> list[type]:
    from typing import get_args
    found = [annotation] if isinstance(annotation, type) else []
    for arg in get_args(annotation):
        found.extend(_types_in(arg))
    return found


def test_an_unexpected_failure_inside_validation_is_an_error_record(monkeypatch):
    """Defence in depth: if validation itself breaks (a bug), the input gets an internal error
    record instead of ending the batch."""
    def broken(*args, **kwargs):
        raise RecursionError("deep inside")
    monkeypatch.setattr(Case, "model_validate_json", broken)
    loaded = validate_raw(RawInput("x", text=b"{}"))
    assert loaded.error is not None
    assert loaded.error.error == "internal error (please report): RecursionError: 'deep inside'"

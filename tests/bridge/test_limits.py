"""Trust at the edge (issue 8): strict types, documented limits held before parsing, only regular
files, short messages, and one record per input whatever the other inputs hold."""
from __future__ import annotations

import copy
import io
import json
import os
import time
from pathlib import Path

import pytest

from spinekb.bridge.loading import (MAX_CASE_BYTES, MAX_DEPTH, CaseInputError, _depth_of_json, load_case,
                                    load_yaml, read_sources, validate_data, validate_json)
from spinekb.bridge.models import MAX_RECORDS, QUOTE_CHARS

GOOD = {
    "request": {"id": "ok", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    "patient": {"age": 54, "sex": "female"},
    "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": "2024-01-10"},
}


def case(**patches: object) -> dict:
    """GOOD with ``section__field=value`` patches (``request__time="12:00"``)."""
    data = copy.deepcopy(GOOD)
    for key, value in patches.items():
        target = data
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return data


def error(data: object) -> str:
    """The one-line validation error of a JSON document (fails if it validates)."""
    loaded = validate_json("x", data if isinstance(data, (str, bytes)) else json.dumps(data))
    assert loaded.case is None and loaded.error is not None, "expected a validation error"
    assert "\n" not in loaded.error.error
    return loaded.error.error


def line(identifier: str, **patches: object) -> bytes:
    return json.dumps(case(request__id=identifier, **patches)).encode()


# --- strict types ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, problem", [
    ("12:00:00+02:00", "without a UTC offset"),
    ("12:00Z", "without a UTC offset"),
    ("12:00-05:00", "without a UTC offset"),
    (0, "as an \"HH:MM\" or \"HH:MM:SS\" string (got 0; in YAML quote it"),
    (43200, "in YAML quote it"),
    ("noon", "as an \"HH:MM\""),
    ("25:00", "as an \"HH:MM\""),
])
def test_a_time_is_a_local_clock_time_string(value, problem):
    """Issue 8.1: a UTC offset or a number as a time is a validation error naming request.time."""
    assert error(case(request__time=value)).startswith("request.time: ")
    assert problem in error(case(request__time=value))


def test_a_procedure_time_with_an_offset_is_rejected_at_its_path():
    """procedures[].time obeys the same rule (the hours since it were the TypeError of issue 8.1)."""
    data = case(request__time="09:30", procedures=[{"kind": "kyphoplasty", "date": "2024-04-30",
                                                   "time": "15:00:00+01:00"}])
    assert error(data).startswith("procedures[0].time: give a local time without a UTC offset")


def test_local_times_still_give_hours_since_a_procedure(decide):
    """"HH:MM" and "HH:MM:SS" both validate and reach the KB as whole hours."""
    from spinekb.bridge.facts import case_facts
    from spinekb.bridge.models import Case
    data = case(request__time="09:30", procedures=[{"kind": "kyphoplasty", "date": "2024-04-30", "time": "15:00:00"}])
    facts = [str(s) for s in case_facts(0, Case.model_validate(data))]
    assert "procedure_hours(0,0,18)" in facts


@pytest.mark.parametrize("value", [1714521600, 0, "2024-05-01T00:00:00", "2024-05-01 00:00", "2024-5-1",
                                   "20240501", True, 2024.5, None])
def test_a_date_is_an_iso_string_only(value):
    """Issue 8.7: no Unix timestamps, date-times, booleans or short forms as dates."""
    message = error(case(request__date=value))
    assert message.startswith("request.date: "), message


def test_an_impossible_calendar_date_names_its_field():
    assert error(case(episode__onset="2024-02-30")).startswith("episode.onset: ")


@pytest.mark.parametrize("field, value", [("patient__age", True), ("patient__age", "54"), ("patient__age", 54.0),
                                          ("patient__age", 54.5)])
def test_a_number_is_a_number(field, value):
    """Issue 8.7: "age": true is not 1, "54" is not 54, and an age is a whole number."""
    assert error(case(**{field: value})).startswith("patient.age: Input should be a valid integer")


@pytest.mark.parametrize("field, item, value", [
    ("prior_imaging", {"modality": "xray", "region": "lumbar", "date": "2024-04-01", "result": ["normal"]}, 1),
    ("implants", {"kind": "pacemaker"}, "yes"),
    ("plans", {"kind": "tfesi"}, "true"),
])
def test_a_flag_is_true_or_false(field, item, value):
    """Booleans are JSON booleans, never 1, "yes" or "true"."""
    key = {"prior_imaging": "available", "implants": "mri_conditional", "plans": "approved"}[field]
    message = error(case(**{field: [{**item, key: value}]}))
    assert message.startswith(f"{field}[0].{key}: Input should be a valid boolean")


def test_grades_and_scores_refuse_booleans():
    data = case(pain_scores=[{"date": "2024-04-01", "vas": True}])
    assert error(data).startswith("pain_scores[0].vas: Input should be a valid integer")


@pytest.mark.parametrize("birth, problem", [
    ("0001-01-01", "patient.birth_date: gives an age of 2023 at the request date (ages run 0-130)"),
    ("1893-04-30", "patient.birth_date: gives an age of 131"),
])
def test_a_derived_age_obeys_the_bounds_of_a_given_one(birth, problem):
    """Issue 8.7: birth_date 0001-01-01 no longer gives an age of 9,998 (or 2,023)."""
    data = case()
    data["patient"] = {"birth_date": birth}
    assert error(data).startswith(problem)


def test_a_birth_date_130_years_back_is_accepted_and_disagreeing_age_is_not():
    data = case()
    data["patient"] = {"birth_date": "1894-05-01"}
    assert validate_json("x", json.dumps(data)).case.age_years() == 130
    data["patient"]["age"] = 54
    assert error(data) == "patient.age: disagrees with birth_date (54 given, 130 at the request date)"


@pytest.mark.parametrize("identifier", ["a\nb", "tab\there", "nul\x00", "bell\x07"])
def test_an_id_is_printable_text(identifier):
    """Ids are printed on one line; a control character would forge lines of text output."""
    assert error(case(request__id=identifier)).startswith("request.id: holds the control character")


def test_yaml_unquoted_dates_are_dates_and_unquoted_times_are_refused_with_a_hint():
    """YAML reads 2024-05-01 as a date (fine) and 17:00 as the number 1020 (refused, with a hint)."""
    text = "request: {id: y, date: 2024-05-01, time: 17:00, cpt: ['72148'], purpose: diagnosis}\n" \
           "patient: {age: 54}\nepisode: {regions: [lumbar], condition: low_back_pain}\n"
    loaded = validate_data("y.yaml", load_yaml(text))
    assert loaded.error is not None and "in YAML quote it" in loaded.error.error
    loaded = validate_data("y.yaml", load_yaml(text.replace("17:00", "'17:00'")))
    assert loaded.case is not None and str(loaded.case.request.time) == "17:00:00"


# --- limits -----------------------------------------------------------------------------------

def test_list_lengths_are_bounded_per_field():
    """More than MAX_RECORDS entries in one list is an error naming the list."""
    scores = [{"date": "2024-04-01", "vas": 5}] * (MAX_RECORDS + 1)
    assert error(case(pain_scores=scores)).startswith("pain_scores: has 10001 items; at most 10000 are allowed")
    regions = ["lumbar"] * 101
    assert error(case(episode__regions=regions)).startswith("episode.regions: ")


def test_nesting_depth_is_measured_without_parsing():
    """Brackets inside strings do not count; the depth is that of the JSON structure."""
    assert _depth_of_json('{"a": [1, {"b": "' + "[" * 100 + '"}]}') == 3
    assert _depth_of_json('{"a": "\\"[[[[", "b": [[]]}') == 3
    assert _depth_of_json("[" * 10_000 + "]" * 10_000) == 10_000


@pytest.mark.parametrize("document", ["[" * 10_000 + "]" * 10_000,
                                      '{"request": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"])
def test_deep_json_is_one_error_not_a_recursion_error(document):
    """Issue 8.2: JSON nested 10,000 deep is refused before parsing (no RecursionError)."""
    assert error(document) == f"nested more than {MAX_DEPTH} levels deep"


def test_deep_yaml_and_recursive_aliases_are_one_error():
    """The same for YAML, and a YAML alias that contains itself."""
    with pytest.raises(ValueError, match=f"nested more than {MAX_DEPTH} levels deep"):
        load_yaml("[" * 10_000 + "]" * 10_000)
    with pytest.raises(ValueError, match="through YAML aliases"):
        load_yaml("request: &a {id: *a}")


BOMB = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n" + "".join(
    f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def test_a_yaml_alias_bomb_is_refused_before_it_is_built(tmp_path):
    """Issue 8.6: 10^9 leaves in a few hundred bytes: refused in well under a second, one short line."""
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    start = time.monotonic()
    with pytest.raises(CaseInputError) as caught:
        load_case(path)
    assert time.monotonic() - start < 1
    assert str(caught.value).endswith("YAML case expands to more than 500,000 nodes (aliases)")


def test_yaml_anchors_within_limits_still_work():
    """A YAML anchor reused a few times is fine (the limit is on the expanded size)."""
    text = ("request: {id: y, date: '2024-05-01', cpt: ['72148'], purpose: diagnosis}\n"
            "patient: {age: 54}\nepisode: {regions: [lumbar], condition: low_back_pain}\n"
            "evaluations:\n- &e {date: '2024-04-01', mode: in_person, kind: initial}\n- *e\n")
    loaded = validate_data("y.yaml", load_yaml(text))
    assert loaded.case is not None and len(loaded.case.evaluations) == 2


def test_a_case_file_over_the_size_limit_is_refused_unread(tmp_path):
    """A .json file larger than MAX_CASE_BYTES is refused from its size, with the figures."""
    path = tmp_path / "big.json"
    path.write_bytes(b" " * (MAX_CASE_BYTES + 1))
    with pytest.raises(CaseInputError, match="case is 1,000,001 bytes; the limit is 1,000,000"):
        load_case(path)


def test_a_jsonl_line_over_the_size_limit_is_skipped_and_the_next_line_decided():
    """A 3 MB line costs one error record; the lines around it are read as usual."""
    big = b'{"request": {"id": "' + b"x" * (3 * MAX_CASE_BYTES) + b'"}}'
    stream = io.BytesIO(line("before") + b"\n" + big + b"\n" + line("after") + b"\n")
    items = list(read_sources(["-"], stdin=stream))
    assert [i.case.request.id if i.case else i.error.error for i in items] == [
        "before", f"case is {len(big):,} bytes; the limit is 1,000,000", "after"]
    assert items[1].source == "<stdin>:2"


# --- short messages -------------------------------------------------------------------------

@pytest.mark.parametrize("data, path", [
    (case(findings=[{"term": "t" * 100_000}]), "findings[0].term: unknown term 'tttt"),
    (case(request__cpt=["7" * 100_000]), "request.cpt[0]: unknown CPT code '7777"),
    (case(evaluations=[{"date": "2024-04-01", "mode": "m" * 100_000, "kind": "initial"}]), "evaluations[0].mode: "),
    (case(request__date="d" * 100_000), "request.date: give a date"),
    (case(findings=[{"term": "neurological_features", "level": "L" * 100_000}]), "findings[0].level: 'LLL"),
    ({**case(), "k" * 100_000: 1}, "'kkkk"),
])
def test_messages_quote_at_most_80_characters_of_a_value(data, path):
    """Issue 8.6: a 100,000-character value is quoted short, never echoed back in full."""
    message = error(data)
    assert message.startswith(path), message
    assert len(message) < 300, len(message)
    assert "k" * (QUOTE_CHARS + 1) not in message and "t" * (QUOTE_CHARS + 1) not in message


def test_an_error_record_does_not_echo_a_huge_id():
    """The error record's case_id is the id only when it is a usable one."""
    loaded = validate_json("x", json.dumps(case(request__id="i" * 100_000)))
    assert loaded.error is not None and loaded.error.case_id is None
    assert loaded.error.error == "request.id: String should have at most 200 characters"


# --- lines, files and folders ------------------------------------------------------------------

def jsonl(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


MIXED = jsonl(line("a"), b'{"request": "\xff\xfe"}', line("b"), b"[" * 5000 + b"]" * 5000,
              line("c", request__time="12:00:00+02:00"), line("d").replace(b', "patient"', b',\r"patient"'),
              b"", b"   ", line("e"))
MIXED_EXPECTED = ["a", "not UTF-8 text (byte 14 is 0xff)", "b", f"nested more than {MAX_DEPTH} levels deep",
                  "request.time: give a local time without a UTC offset, the request's own clock "
                  "(got '12:00:00+02:00')",
                  "d", "e"]


def outcomes(items: list) -> list[str]:
    return [i.case.request.id if i.case else i.error.error for i in items]


def test_jsonl_file_and_stdin_read_the_same_bytes_the_same_way(tmp_path):
    """Issues 8.3 and 8.4: one reader for both; a bad line (bad UTF-8, too deep, a time with an
    offset) costs that line only, and a bare CR inside a line is JSON whitespace, not a line end."""
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(MIXED)
    from_file = list(read_sources([str(path)]))
    from_stdin = list(read_sources(["-"], stdin=io.BytesIO(MIXED)))
    assert outcomes(from_file) == outcomes(from_stdin) == MIXED_EXPECTED
    assert [i.source.rsplit(":", 1)[1] for i in from_stdin] == ["1", "2", "3", "4", "5", "6", "9"]


def test_a_text_stream_is_read_as_its_bytes():
    """A Python caller may pass io.StringIO: the same reader, through an encoder."""
    text = MIXED.replace(b'{"request": "\xff\xfe"}', b"{oops").decode("utf-8")
    items = list(read_sources(["-"], stdin=io.StringIO(text)))
    assert outcomes(items)[0] == "a" and outcomes(items)[1].startswith("invalid JSON")
    assert len(items) == len(MIXED_EXPECTED)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_not_waited_on(tmp_path):
    """Issue 8.5: a FIFO named as a case file (or inside a folder) is one error, at once."""
    fifo = tmp_path / "case.json"
    os.mkfifo(fifo)
    (tmp_path / "good.json").write_text(json.dumps(GOOD))
    items = list(read_sources([str(fifo), str(tmp_path)]))
    assert [i.error.error if i.error else i.case.request.id for i in items] == [
        "not a regular file (a FIFO); only regular files are read (use - for standard input)",
        "not a regular file (a FIFO); only regular files are read (use - for standard input)", "ok"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_symlink_to_a_device_is_refused(tmp_path):
    """Issue 8.5: a symlink to /dev/zero is refused (it used to grow to gigabytes)."""
    link = tmp_path / "zero.jsonl"
    link.symlink_to("/dev/zero")
    [item] = list(read_sources([str(link)]))
    assert item.error.error.startswith("not a regular file (a character device)")


def test_a_dangling_symlink_and_a_missing_file_are_one_error_each(tmp_path):
    (tmp_path / "gone.json").symlink_to(tmp_path / "nowhere.json")
    items = list(read_sources([str(tmp_path / "gone.json"), str(tmp_path / "missing.json")]))
    assert [i.error.error for i in items] == ["is a symlink to nothing", "no such file or folder"]


def test_a_folder_entry_that_is_a_folder_is_reported_not_skipped(tmp_path):
    (tmp_path / "a.json").mkdir()
    (tmp_path / "b.json").write_text(json.dumps(GOOD))
    items = list(read_sources([str(tmp_path)]))
    assert [i.error.error if i.error else "ok" for i in items] == [
        "not a regular file (a folder); only regular files are read (use - for standard input)", "ok"]


def test_a_bom_and_crlf_line_ends_are_accepted(tmp_path):
    """Files saved by Windows editors: a UTF-8 BOM, CRLF line ends."""
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode())
    (tmp_path / "crlf.jsonl").write_bytes(line("x") + b"\r\n" + line("y") + b"\r\n")
    assert outcomes(list(read_sources([str(tmp_path)]))) == ["ok", "x", "y"]

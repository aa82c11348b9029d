"""No input can drop another (issue 8): whatever fails while one input is decided or rendered,
or kills the worker process deciding it, every other input still gets its record, in order."""
from __future__ import annotations

import io
import json
import multiprocessing
import os

from spinekb.bridge.batch import (CHUNKS_PER_WORKER, Rendered, as_json_line, decide_loaded, evaluate_sources,
                                  render_batch)
from spinekb.bridge.engine import Engine
from spinekb.bridge.loading import validate_json
from spinekb.bridge.records import CaseError

GOOD = {
    "request": {"id": "ok", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    "patient": {"age": 54, "sex": "female"},
    "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": "2024-01-10"},
}


def jsonl(*ids: str) -> io.BytesIO:
    return io.BytesIO(b"".join(json.dumps({**GOOD, "request": {**GOOD["request"], "id": i}}).encode() + b"\n"
                               for i in ids))


class FailingEngine(Engine):
    """An engine with a bug that one case triggers (the case id "boom")."""

    def evaluate_chunk(self, cases):
        if any(case.request.id == "boom" for case in cases):
            raise RuntimeError("a bug " + "x" * 10_000)
        return super().evaluate_chunk(cases)


def test_a_case_that_breaks_deciding_costs_its_own_record_only():
    """The chunk is decided again case by case: "boom" gets an internal error, its neighbours decide."""
    items = [validate_json(f"<stdin>:{n}", json.dumps({**GOOD, "request": {**GOOD["request"], "id": i}}))
             for n, i in enumerate(["a", "boom", "b"], start=1)]
    outcomes = decide_loaded(FailingEngine(), items)
    assert [o.case_id for o in outcomes] == ["a", "boom", "b"]
    assert isinstance(outcomes[1], CaseError) and outcomes[1].source == "<stdin>:2"
    assert outcomes[1].error.startswith("internal error (please report): RuntimeError: 'a bug xxx")
    assert len(outcomes[1].error) <= 300
    assert all(not isinstance(o, CaseError) for o in (outcomes[0], outcomes[2]))


def test_the_python_api_keeps_every_input_too():
    """evaluate_sources with that engine: three outcomes for three lines, in order."""
    outcomes = list(evaluate_sources(["-"], stdin=jsonl("a", "boom", "b"), engine=FailingEngine()))
    assert [type(o).__name__ for o in outcomes] == ["Decided", "CaseError", "Decided"]


def picky_renderer(outcome) -> Rendered:
    """A renderer with a bug that one case triggers."""
    if outcome.case_id == "unprintable":
        raise ValueError("cannot render this one")
    return as_json_line(outcome)


def test_a_renderer_that_fails_on_one_record_renders_its_error_instead():
    rendered = list(render_batch(["-"], picky_renderer, stdin=jsonl("a", "unprintable", "b")))
    records = [json.loads(r.text) for r in rendered]
    assert [r["case_id"] for r in records] == ["a", "unprintable", "b"]
    assert records[1]["error"] == "internal error (please report): ValueError: 'cannot render this one'"
    assert rendered[1].error is not None and rendered[0].error is None


def lethal_renderer(outcome) -> Rendered:
    """Kills the worker process that renders the case "lethal" (as an out-of-memory kill would)."""
    if outcome.case_id == "lethal" and multiprocessing.parent_process() is not None:
        os._exit(9)
    return as_json_line(outcome)


def test_a_worker_that_dies_costs_only_the_input_it_was_deciding():
    """The pool is restarted, the dying chunk is split until the lethal input stands alone."""
    ids = [f"c{i}" for i in range(7)] + ["lethal"] + [f"d{i}" for i in range(4)]
    rendered = list(render_batch(["-"], lethal_renderer, jobs=2, stdin=jsonl(*ids), chunk_size=4))
    records = [json.loads(r.text) for r in rendered]
    assert [r["source"] if "error" in r else r["case_id"] for r in records] == [
        *ids[:7], "<stdin>:8", *ids[8:]]
    assert records[7]["error"] == "internal error (please report): the worker process deciding this input died"
    assert [bool(r.error) for r in rendered].count(True) == 1


def worker_pid(outcome) -> Rendered:
    """Renders the id of the process that decided the case."""
    return Rendered(str(os.getpid()))


def test_workers_are_replaced_so_memory_stays_flat():
    """clingo keeps every symbol for the life of a process, so flat memory rests on replacing
    each worker after CHUNKS_PER_WORKER chunks: 3 times that many chunks on one worker slot are
    decided by at least 3 processes (bench/run.py measures the memory itself)."""
    chunks = 3 * CHUNKS_PER_WORKER
    ids = [f"m{i}" for i in range(chunks)]
    pids = [r.text for r in render_batch(["-"], worker_pid, jobs=1, stdin=jsonl(*ids), chunk_size=1)]
    assert len(pids) == chunks and str(os.getpid()) not in pids
    assert len(set(pids)) >= 3

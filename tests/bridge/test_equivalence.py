"""Speed-ups must not change a decision: the same generated cases decide identically whether the
bridge emits every fact or only those the KB reads, and in one chunk or case by case."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from spinekb.bridge.engine import Engine
from spinekb.bridge.models import Case

GENERATOR = Path(__file__).parents[2] / "bench" / "generate.py"


@pytest.fixture(scope="module")
def generated() -> list[Case]:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return [Case.model_validate(data) for data in module.generate(300, seed=7)]


def records(results) -> list[dict]:
    return [r.to_json() for r in results]


def test_emitting_only_the_facts_the_kb_reads_changes_nothing(generated):
    """Filtered facts (the default) and every fact decide the 300 cases identically."""
    filtered = Engine()
    everything = Engine()
    everything._filter_facts = False  # emit every fact of the case format
    assert records(filtered.evaluate(generated)) == records(everything.evaluate(generated))


def test_chunk_size_changes_nothing(generated):
    """300 cases in one grounding decide as in chunks of 7."""
    assert records(Engine(chunk_size=1000).evaluate(generated)) == records(Engine(chunk_size=7).evaluate(generated))


def test_the_generated_cases_cover_both_decisions(generated):
    """The comparison means something: approvals and denials both occur."""
    decisions = {s["decision"] for r in records(Engine().evaluate(generated)) for s in r["studies"]}
    assert decisions == {"approved", "denied"}

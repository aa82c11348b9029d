"""Shared fixtures: one engine per test session (the KB is grounded per chunk, not per test)."""
from __future__ import annotations

from typing import Any

import pytest

from spinekb.bridge.engine import Engine
from spinekb.bridge.models import Case


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine every test shares (tracing every criterion, so tests can assert met/unmet)."""
    return Engine(trace=True)


@pytest.fixture(scope="session")
def decide(engine: Engine):
    """Evaluate a case given as a dict; returns the CaseResult."""
    def run(data: dict[str, Any]):
        return engine.evaluate_one(Case.model_validate(data))
    return run

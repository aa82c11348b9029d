"""The fixture of tests/checks: run the checks over the toy KB of toykb.py plus some lines."""
from __future__ import annotations

import pytest
from toykb import CLEAN, program

from spinekb.kb.checks import Issue, run_checks


@pytest.fixture
def check():
    """Run the checks over the toy KB plus some lines."""
    def run(*extra: str, base: str = CLEAN) -> list[Issue]:
        return run_checks(program(*extra, base=base))
    return run

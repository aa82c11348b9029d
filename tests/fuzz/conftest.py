"""Prints how many inputs the fuzz properties tried (the figure `make fuzz` reports)."""
from __future__ import annotations

from budget import LONG, TRIED


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest hook
    if TRIED:
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(TRIED.items()))
        terminalreporter.write_line(f"fuzz ({'long' if LONG else 'quick'} budget): "
                                    f"{sum(TRIED.values()):,} inputs tried ({kinds})")

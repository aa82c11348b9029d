"""The fuzz budget: small in `make test` (about 20 s), large in `make fuzz` (SPINEKB_FUZZ=long),
and a count of the inputs tried, printed at the end of the run."""
from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

#: `make fuzz` sets SPINEKB_FUZZ=long; SPINEKB_FUZZ_SCALE multiplies the long budget further.
LONG = os.environ.get("SPINEKB_FUZZ") == "long"
SCALE = int(os.environ.get("SPINEKB_FUZZ_SCALE", "1"))

#: Inputs tried, by property (a batch counts each of its inputs).
TRIED: Counter[str] = Counter()

settings.register_profile(
    "spinekb", deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.load_profile("spinekb")


def budget(quick: int, long: int) -> settings:
    """Hypothesis settings: ``quick`` examples in the test suite, ``long`` under `make fuzz`."""
    return settings(max_examples=long * SCALE if LONG else quick)


def tried(kind: str, count: int = 1) -> None:
    """Count ``count`` inputs tried by the property ``kind``."""
    TRIED[kind] += count

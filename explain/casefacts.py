"""A case's input facts as a reader wants them: the bridge's own facts, days shown as dates.

Which arguments are days is the bridge's table of case predicates
(:data:`spinekb.bridge.facts.CASE_TABLE`); this module only re-exports the reader's view.
"""
from __future__ import annotations

from spinekb.bridge.facts import CaseFact, readable_facts

__all__ = ["CaseFact", "readable_facts"]

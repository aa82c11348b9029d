"""The figures of a batch report, read from a results file a line at a time (flat memory).

A results file is what ``spinekb evaluate --format jsonl`` writes: one decision record (or error
record) a line. :func:`read_results` folds every line into a :class:`ReportData` (counters, and
the guideline words of every criterion cited), and hands each denial to a callback as it goes,
so the report can write the table of every denial without holding the file::

    >>> data = read_results(['{"case_id": "a", "kb_version": "v", "studies": [{"cpt": "72148",'
    ...     ' "description": "MRI", "decision": "denied", "sections": ["SP-5.1"], "criteria": ["sp5_1_c3"],'
    ...     ' "reasons": [{"kind": "unmet", "section": "SP-5.1", "criterion": "sp5_1_c3", "text": "Failure"}]}]}'])
    >>> data.denied, data.deciding.most_common(1), data.kinds, data.unaddressed
    (1, [('sp5_1_c3', 1)], Counter({None: 1}), 0)

Fields added to records later (``denial_kind`` by issue 9, what-if actions) are read when present
and counted as "not recorded" when absent.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

#: Reason kinds that decide a denial (a "met" reason never does; alternatives only suggest).
DECIDING = ("excluded", "unmet", "not_indicated", "referral", "out_of_scope", "no_pathway")
#: Of those, the reasons that name what the case lacks or what rules it out; ``out_of_scope`` and
#: ``no_pathway`` say instead that no pathway addresses the case at all (counted apart).
LACKING = ("excluded", "unmet", "not_indicated", "referral")


@dataclass(frozen=True)
class Denial:
    """One denied study, as the table of denials shows it."""

    number: int
    case_id: str
    cpt: str
    description: str
    kind: str | None
    review_action: str | None
    sections: tuple[str, ...]
    reasons: tuple[dict[str, Any], ...]
    actions: tuple[str, ...]


@dataclass
class ReportData:
    """Counters over every record of a results file."""

    lines: int = 0
    cases: int = 0
    errors: int = 0
    studies: int = 0
    approved: int = 0
    denied: int = 0
    versions: Counter[str] = field(default_factory=Counter)
    #: (cpt, decision) -> studies; cpt -> description
    by_cpt: Counter[tuple[str, str]] = field(default_factory=Counter)
    descriptions: dict[str, str] = field(default_factory=dict)
    #: (section, decision) -> studies citing the section
    by_section: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: denial_kind of each denied study (None: not recorded)
    kinds: Counter[str | None] = field(default_factory=Counter)
    #: X12 278 review action of each study
    actions_x12: Counter[str] = field(default_factory=Counter)
    #: denied studies no pathway addresses (out_of_scope / no_pathway reasons and nothing lacking)
    unaddressed: int = 0
    #: presentation criterion -> denied studies whose pathways address it (the case presenting none)
    presentations: Counter[str] = field(default_factory=Counter)
    #: criterion -> denied studies it helped decide; criterion -> (section, words, label)
    deciding: Counter[str] = field(default_factory=Counter)
    deciding_kinds: dict[str, Counter[str]] = field(default_factory=dict)
    words: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    #: what-if action -> denied studies whose smallest edit set needs it (when records carry what-ifs)
    whatif: Counter[str] = field(default_factory=Counter)
    whatif_studies: int = 0
    #: the first error messages (up to ERRORS_KEPT)
    error_samples: list[str] = field(default_factory=list)
    unreadable: int = 0

    @property
    def has_kinds(self) -> bool:
        """Whether any record carries a denial_kind."""
        return any(kind is not None for kind in self.kinds)


ERRORS_KEPT = 20


def read_results(lines: Iterable[str], on_denial: Callable[[Denial], None] | None = None) -> ReportData:
    """Fold every line of a results file into the report's figures; ``on_denial`` sees each denial."""
    data = ReportData()
    for line in lines:
        if not line.strip():
            continue
        data.lines += 1
        try:
            record = json.loads(line)
        except ValueError:
            data.unreadable += 1
            continue
        if not isinstance(record, dict):
            data.unreadable += 1
            continue
        if "error" in record and "studies" not in record:
            data.errors += 1
            if len(data.error_samples) < ERRORS_KEPT:
                data.error_samples.append(f"{record.get('source', '?')}: {record.get('error', '')}")
            continue
        _fold_case(data, record, on_denial)
    return data


def _fold_case(data: ReportData, record: dict[str, Any], on_denial: Callable[[Denial], None] | None) -> None:
    data.cases += 1
    data.versions[str(record.get("kb_version", "?"))] += 1
    for study in record.get("studies") or ():
        if not isinstance(study, dict):
            continue
        data.studies += 1
        cpt = str(study.get("cpt", "?"))
        decision = "approved" if study.get("decision") == "approved" else "denied"
        data.descriptions.setdefault(cpt, str(study.get("description", "")))
        data.by_cpt[(cpt, decision)] += 1
        for section in study.get("sections") or ():
            data.by_section[(section, decision)] += 1
        action = study.get("review_action")
        if action:
            data.actions_x12[action] += 1
        reasons = [r for r in study.get("reasons") or () if isinstance(r, dict)]
        words = data.words
        for reason in reasons:
            criterion = reason.get("criterion")
            if criterion and criterion not in words:
                words[criterion] = (reason.get("section") or "?", reason.get("text") or "", bool(reason.get("label")))
        if decision == "approved":
            data.approved += 1
            continue
        data.denied += 1
        kind = study.get("denial_kind")
        data.kinds[kind] += 1
        deciding = [r for r in reasons if r.get("kind") in DECIDING]
        lacking = [r for r in deciding if r.get("kind") in LACKING and r.get("criterion")]
        for criterion in dict.fromkeys(r["criterion"] for r in lacking):
            data.deciding[criterion] += 1
        for reason in lacking:
            data.deciding_kinds.setdefault(reason["criterion"], Counter())[reason["kind"]] += 1
        if not any(r.get("kind") == "unmet" for r in deciding) and \
                any(r.get("kind") in ("out_of_scope", "no_pathway") for r in deciding):
            data.unaddressed += 1
        for criterion in dict.fromkeys(r["criterion"] for r in deciding
                                       if r.get("kind") == "out_of_scope" and r.get("criterion")):
            data.presentations[criterion] += 1
        edits = _whatif_actions(study)
        if edits is not None:
            data.whatif_studies += 1
            for edit in dict.fromkeys(edits):
                data.whatif[edit] += 1
        if on_denial is not None:
            on_denial(Denial(data.denied, str(record.get("case_id", "?")), cpt, str(study.get("description", "")),
                             kind, action, tuple(study.get("sections") or ()), tuple(deciding),
                             tuple(edits or ())))


def _whatif_actions(study: dict[str, Any]) -> list[str] | None:
    """The actions of a denied study's smallest what-if edit set, if the record has one."""
    found = study.get("what_if", study.get("whatif"))
    if found is None:
        return None
    if isinstance(found, dict):
        sets = found.get("sets") or ()
        first = sets[0] if sets and isinstance(sets[0], dict) else {}
        return [str(e.get("action")) for e in first.get("edits") or () if isinstance(e, dict) and e.get("action")]
    if isinstance(found, list):
        return [str(e.get("action") if isinstance(e, dict) else e) for e in found]
    return None

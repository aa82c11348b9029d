"""The impact of a KB revision in words: ``spinekb diff`` as text (its JSON is the record itself).

    >>> print(impact_text(report))  # doctest: +SKIP
    spinekb diff: installed (spine-imaging-V1.0.2023+kb.4964f8429807) -> /tmp/kb90 (...+kb.0b1c...)
    ...
"""
from __future__ import annotations

from spinekb.bridge.revision import CriterionImpact, ImpactReport, RuleText, StudyChange

#: Rules shown per criterion and side before "... and N more".
RULES_SHOWN = 6
_WRAP = 100


def impact_text(report: ImpactReport, limit: int | None = None) -> str:
    """The report for people: what moved, the totals, then each changed criterion with its rules
    and the studies it changed (``limit`` studies per criterion, all when None)."""
    lines = [f"spinekb diff: {report.base.name} ({report.base.version})",
             f"          -> {report.other.name} ({report.other.version})", ""]
    changed_rules = len(report.criteria)
    lines.append(f"rules: {changed_rules} criteri{'on' if changed_rules == 1 else 'a'} with rules that differ"
                 + (f"; {len(report.other_removed) + len(report.other_added)} rule(s) of no criterion differ"
                    if report.other_removed or report.other_added else ""))
    lines.append(f"cases: {report.cases} decided under both ({report.studies} studies)"
                 + (f"; {report.rejected} input(s) rejected" if report.rejected else ""))
    lines.append(f"changed: {report.changed} stud{'y' if report.changed == 1 else 'ies'}: "
                 f"{report.flipped} decision(s) flipped ({report.denied_to_approved} denied -> approved, "
                 f"{report.approved_to_denied} approved -> denied), {report.reasons_only} with other reasons only"
                 + (f"; {report.unattributed} explained by no changed criterion" if report.unattributed else ""))
    if not report.criteria and not report.other_removed and not report.other_added:
        lines += ["", "The two KBs have the same rules."]
    by_key = {change.key: change for change in report.study_changes}
    for group in report.criteria:
        lines += ["", *_group(group, [by_key[k] for k in group.changes], limit)]
    if report.other_removed or report.other_added:
        lines += ["", "Rules of no criterion (decision program, code table, sections, #show):"]
        lines += _rules(report.other_removed, report.other_added)
    unattributed = [c for c in report.study_changes if not c.criteria]
    if unattributed:
        lines += ["", f"Changed studies no changed criterion explains ({len(unattributed)}):"]
        lines += [_study(c) for c in unattributed[:limit]]
        if limit is not None and len(unattributed) > limit:
            lines.append(f"    ... and {len(unattributed) - limit} more (--format json lists all)")
    return "\n".join(lines) + "\n"


def _group(group: CriterionImpact, changes: list[StudyChange], limit: int | None) -> list[str]:
    head = f"{group.section} {group.criterion} ({group.status})"
    counts = (f"{group.studies} stud{'y' if group.studies == 1 else 'ies'} in {group.cases} case(s); "
              f"{group.flipped} flipped ({group.denied_to_approved} denied -> approved, "
              f"{group.approved_to_denied} approved -> denied)")
    lines = [f"{head}: {counts}"]
    if group.text:
        lines.append(f'  "{_short(group.text, 160)}"')
    lines += _rules(group.removed, group.added)
    shown = changes if limit is None else changes[:limit]
    lines += [_study(c) for c in shown]
    if len(shown) < len(changes):
        lines.append(f"    ... and {len(changes) - len(shown)} more (--format json lists all)")
    return lines


def _rules(removed: tuple[RuleText, ...], added: tuple[RuleText, ...]) -> list[str]:
    lines = []
    for sign, rules in (("-", removed), ("+", added)):
        for rule in rules[:RULES_SHOWN]:
            lines.append(f"  {sign} {_short(rule.text, _WRAP)}   [{rule.where}]")
        if len(rules) > RULES_SHOWN:
            lines.append(f"  {sign} ... and {len(rules) - RULES_SHOWN} more rule(s)")
    return lines


def _study(change: StudyChange) -> str:
    what = (f"{change.before.decision} -> {change.after.decision}" if change.flipped
            else f"{change.after.decision}, reasons changed")
    own = [c for c in change.status_changed if c.split("(", 1)[0] in change.criteria]
    words = [f"{c} {'now met' if c in change.now_met else 'no longer met'}" for c in own]
    others = len(change.status_changed) - len(own)
    if others:
        words.append(f"{others} other criteri{'on' if others == 1 else 'a'} changed status")
    moved = f"  ({'; '.join(words)})" if words else ""
    source = f"  {change.source}" if change.source else ""
    return f"    {change.case_id}  {change.cpt}  {what}{moved}{source}"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"

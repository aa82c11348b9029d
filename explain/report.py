"""``spinekb report``: one self-contained HTML page over a results file (no network: styles, charts
and the little script it has are inside the page).

    >>> from spinekb.explain.report import write_report
    >>> with open("results.jsonl", encoding="utf-8") as lines:        # doctest: +SKIP
    ...     data = write_report(lines, "report.html", source="results.jsonl")

The results file is read once, a line at a time (:mod:`spinekb.explain.report_data`): the
figures are counters, and each denial's table row is written to a temporary file as it is met,
then streamed into the page by the template. Memory stays flat however long the file is.

Charts are Vega-Lite (Altair) rendered to inline SVG by vl-convert (:mod:`spinekb.explain.charts`);
the page is a Jinja2 template (``templates/report.html.j2``), autoescaped, so guideline words and
case ids cannot become markup.
"""
from __future__ import annotations

import datetime as dt
import html
import re
import tempfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from markupsafe import Markup

from spinekb.explain.charts import DENIED, SINGLE, bar_chart
from spinekb.explain.pages import page_environment, stylesheet
from spinekb.explain.report_data import Denial, ReportData, read_results
from spinekb.kb import GUIDELINE

#: Categories a chart shows (the tables below each chart show all of them).
CHART_ROWS = 25
#: Case facts shown per reason in the table of denials.
FACTS_SHOWN = 4
X12 = (("A1", "certified"), ("A3", "not certified"), ("A4", "pended"))
DENIAL_KINDS = {
    "documentation": "documenting what may already exist (an exam finding, a report, a result) would approve it",
    "not_yet": "it can be approved once something is done: the patient seen, treatment continued, time passed",
    "not_supported": "no edit helps: ruled out, no pathway for the presentation, or sent elsewhere",
}


def write_report(lines: Iterable[str], output: str | Path, source: str = "-",
                 diff: dict[str, Any] | None = None, sections: dict[str, str] | None = None,
                 charts: bool = True, facts: bool = False) -> ReportData:
    """Write the report of the results ``lines`` to ``output``; the figures it shows.

    ``diff``: the JSON report of ``spinekb diff`` for a section on a KB revision's impact;
    ``sections``: section id -> title (default: the installed KB's section list); ``facts``: show
    the case facts behind each denial's reasons (a larger page)."""
    if sections is None:
        from spinekb.kb.static import static_kb
        sections = static_kb().sections
    with tempfile.TemporaryFile("w+", encoding="utf-8") as rows:
        def keep(denial: Denial) -> None:
            rows.write(denial_row(denial, facts) + "\n")

        data = read_results(lines, on_denial=keep)
        rows.seek(0)
        context = _context(data, source, sections, charts)
        context["diff"] = Markup(diff_section(diff)) if diff else None
        context["facts"] = facts
        context["denial_rows"] = (Markup(line.rstrip("\n")) for line in rows)
        template = page_environment().get_template("report.html.j2")
        with open(output, "w", encoding="utf-8") as out:
            for chunk in template.generate(**context):
                out.write(chunk)
    return data


def _context(data: ReportData, source: str, sections: dict[str, str], charts: bool) -> dict[str, Any]:
    cpt_rows = _rows(data.by_cpt, lambda cpt: data.descriptions.get(cpt, ""))
    section_rows = _rows(data.by_section, lambda section: sections.get(section, ""))
    deciding_rows = []
    for criterion, count in data.deciding.most_common():
        section, words, label = data.words.get(criterion, ("?", "", False))
        kinds = data.deciding_kinds.get(criterion)
        deciding_rows.append({"criterion": criterion, "anchor": anchor(criterion), "count": count, "section": section,
                              "words": words, "label": label,
                              "kinds": ", ".join(k for k, _ in kinds.most_common()) if kinds else ""})
    listed = set(data.deciding)
    presentation_rows = []
    for criterion, count in data.presentations.most_common():
        if criterion not in listed:
            section, words, label = data.words.get(criterion, ("?", "", False))
            presentation_rows.append({"criterion": criterion, "anchor": anchor(criterion), "count": count,
                                      "section": section, "words": words, "label": label})
    kind_rows = [(kind or "not recorded", DENIAL_KINDS.get(kind or "", ""), n) for kind, n in data.kinds.most_common()]
    figures: dict[str, str] = {}
    if charts and data.studies:
        figures["cpt"] = _stacked(cpt_rows, "CPT code", lambda r: f"{r['key']} {r['label']}"[:48])
        figures["section"] = _stacked(section_rows, "section", lambda r: f"{r['key']} {r['label']}"[:48])
        if data.denied:
            figures["deciding"] = bar_chart([(f"{r['criterion']}"[:48], "denials", r["count"])  # type: ignore[misc]
                                             for r in deciding_rows[:CHART_ROWS]], "criterion", "denied studies",
                                            series=("denials",), colours=(DENIED,))
        if data.has_kinds:
            figures["kind"] = bar_chart([(k, "denials", n) for k, _, n in kind_rows], "denial kind", "denied studies",
                                        series=("denials",), colours=(DENIED,))
        if data.whatif_studies:
            figures["whatif"] = bar_chart([(a, "studies", n) for a, n in data.whatif.most_common(CHART_ROWS)],
                                          "action", "denied studies", series=("studies",), colours=(SINGLE,))
    return {
        "title": f"Batch report: {data.cases:,} cases, {data.studies:,} studies",
        "guideline": GUIDELINE, "source": source, "generated": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "css": Markup(stylesheet()), "data": data, "x12": X12, "fmt": lambda n: f"{n:,}", "pct": _pct,
        "cpt_rows": cpt_rows, "section_rows": section_rows, "deciding_rows": deciding_rows,
        "presentation_rows": presentation_rows,
        "kind_rows": kind_rows, "chart_rows": CHART_ROWS,
        "charts": {k: Markup(figures[k]) if k in figures else None for k in ("cpt", "section", "deciding", "kind",
                                                                               "whatif")},
    }


def _rows(counter: Any, label: Any) -> list[dict[str, Any]]:
    """Per key: approved and denied, most studies first."""
    keys: dict[str, dict[str, Any]] = {}
    for (key, decision), n in counter.items():
        row = keys.setdefault(key, {"key": key, "label": label(key), "approved": 0, "denied": 0})
        row[decision] += n
    return sorted(keys.values(), key=lambda r: (-(r["approved"] + r["denied"]), _natural(r["key"])))


def _natural(key: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"([0-9]+)", key))


def _stacked(rows: list[dict[str, Any]], category: str, name: Any) -> str:
    shown = rows[:CHART_ROWS]
    return bar_chart([(name(r), decision, r[decision]) for r in shown for decision in ("approved", "denied")],
                     category, "studies")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def anchor(criterion: str) -> str:
    """An HTML id for a criterion (``sp16_1_otherwise_met("72148")`` has quotes and parentheses)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", criterion).strip("-")


def denial_row(denial: Denial, facts: bool = False) -> str:
    """One row of the table of denials: the study, its kind, and its deciding reasons, each
    criterion linked to its words (``facts``: with the case facts each reason's rules read).
    Written with ``html.escape`` and f-strings: this runs once per denial."""
    reasons: dict[str, list[str]] = {}
    details = []
    for reason in denial.reasons:
        criterion = reason.get("criterion")
        kind = str(reason.get("kind", ""))
        if criterion:
            link = _link(str(criterion), reason.get("target"))
            reasons.setdefault(kind, []).append(link)
            read = [str(f) for f in reason.get("facts") or ()] if facts else []
            if read:
                more = f"; … {len(read) - FACTS_SHOWN} more" if len(read) > FACTS_SHOWN else ""
                details.append(f"<li>{link}: {_e('; '.join(read[:FACTS_SHOWN]) + more)}</li>")
        else:
            reasons.setdefault(kind, [])
    scopes = reasons.pop("out_of_scope", None)
    parts = [f"{_e(kind.replace('_', ' '))} {', '.join(dict.fromkeys(links))}".strip()
             for kind, links in reasons.items()]
    if scopes:  # the presentations the study's pathways address: listed once, under the criteria
        parts.append(f'<a href="#presentations">not for this presentation</a> ({len(set(scopes))} addressed)')
    why = "; ".join(parts) or "no pathway"
    if denial.actions:
        why += f"; what would change it: {_e(', '.join(dict.fromkeys(denial.actions)))}"
    if details:
        why += f'<details><summary>case facts</summary><ul class="reasons">{"".join(details)}</ul></details>'
    kind = denial.kind or denial.review_action or ""
    return (f'<tr id="d{denial.number}"><td class="n">{denial.number}</td><td>{_e(denial.case_id)}</td>'
            f"<td>{_e(denial.cpt)}</td><td>{_e(kind)}</td><td>{_e(' '.join(denial.sections))}</td>"
            f"<td>{why}</td></tr>")


@lru_cache(maxsize=8192)
def _link(criterion: str, target: str | None) -> str:
    """A criterion linked to its row of words (criteria repeat across denials: made once each)."""
    link = f'<a href="#c-{anchor(criterion)}">{_e(criterion)}</a>'
    return link + (f" → {_e(str(target))}" if target else "")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def diff_section(report: dict[str, Any]) -> str:
    """The impact of a KB revision (``spinekb diff --format json``) as a section of a page."""
    template = page_environment().get_template("diff_section.html.j2")
    by_key = {f"{c['case_id']} {c['cpt']}": c for c in report.get("study_changes", ())}
    return template.render(diff=report, by_key=by_key, fmt=lambda n: f"{n:,}")


def read_lines(stream: IO[str]) -> Iterator[str]:
    """The lines of a results stream (a generator, so a file is never read whole)."""
    yield from stream

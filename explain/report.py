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
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from markupsafe import Markup, escape

from spinekb.explain.charts import DENIED, SINGLE, bar_chart
from spinekb.explain.pages import page_environment, stylesheet
from spinekb.explain.report_data import Denial, ReportData, read_results
from spinekb.kb import GUIDELINE

#: Categories a chart shows (the tables below each chart show all of them).
CHART_ROWS = 25
#: Case facts shown per reason in the table of denials.
FACTS_SHOWN = 6
X12 = (("A1", "certified"), ("A3", "not certified"), ("A4", "pended"))
DENIAL_KINDS = {
    "documentation": "documenting what may already exist (an exam finding, a report, a result) would approve it",
    "not_yet": "it can be approved once something is done: the patient seen, treatment continued, time passed",
    "not_supported": "no edit helps: ruled out, no pathway for the presentation, or sent elsewhere",
}


def write_report(lines: Iterable[str], output: str | Path, source: str = "-",
                 diff: dict[str, Any] | None = None, sections: dict[str, str] | None = None,
                 charts: bool = True) -> ReportData:
    """Write the report of the results ``lines`` to ``output``; the figures it shows.

    ``diff``: the JSON report of ``spinekb diff`` for a section on a KB revision's impact;
    ``sections``: section id -> title (default: the installed KB's section list)."""
    if sections is None:
        from spinekb.kb.static import static_kb
        sections = static_kb().sections
    with tempfile.TemporaryFile("w+", encoding="utf-8") as rows:
        data = read_results(lines, on_denial=lambda denial: rows.write(denial_row(denial) + "\n"))
        rows.seek(0)
        context = _context(data, source, sections, charts)
        context["diff"] = Markup(diff_section(diff)) if diff else None
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
    kind_rows = [(kind or "not recorded", DENIAL_KINDS.get(kind or "", ""), n) for kind, n in data.kinds.most_common()]
    figures: dict[str, str] = {}
    if charts and data.studies:
        figures["cpt"] = _stacked(cpt_rows, "CPT code", lambda r: f"{r['key']} {r['label']}"[:48])
        figures["section"] = _stacked(section_rows, "section", lambda r: f"{r['key']} {r['label']}"[:48])
        if data.denied:
            figures["deciding"] = bar_chart([(f"{r['criterion']}"[:48], "denials", r["count"])
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


def denial_row(denial: Denial) -> str:
    """One row of the table of denials, with its reasons in a disclosure."""
    criteria = [r.get("criterion") for r in denial.reasons if r.get("criterion")]
    search = " ".join([denial.case_id, denial.cpt, denial.description, *denial.sections, *map(str, criteria),
                       denial.kind or ""]).lower()
    items = []
    for reason in denial.reasons:
        criterion = reason.get("criterion")
        what = escape(reason.get("kind", ""))
        if criterion:
            what = Markup('{} <a href="#c-{}"><code>{}</code></a>').format(what, anchor(criterion), criterion)
        if reason.get("target"):
            what += Markup(" → {}").format(reason["target"])
        facts = list(reason.get("facts") or ())
        shown = "; ".join(facts[:FACTS_SHOWN]) + (f"; … {len(facts) - FACTS_SHOWN} more" if len(facts) > FACTS_SHOWN
                                                  else "")
        items.append(Markup("<li>{}{}</li>").format(what, Markup(": <span class=words>{}</span>").format(shown)
                                                   if shown else ""))
    if denial.actions:
        items.append(Markup("<li>what would change it: {}</li>").format(", ".join(denial.actions)))
    summary = ", ".join(dict.fromkeys(map(str, criteria))) or "no pathway"
    kind = denial.kind or (denial.review_action or "")
    return str(Markup(
        '<tr id="d{n}" data-search="{search}"><td class="n">{n}</td><td>{case}</td><td><code>{cpt}</code> {desc}</td>'
        '<td>{kind}</td><td>{sections}</td><td><details><summary>{summary}</summary><ul class="reasons">{items}'
        '</ul></details></td></tr>').format(
        n=denial.number, search=search, case=denial.case_id, cpt=denial.cpt, desc=denial.description, kind=kind,
        sections=", ".join(denial.sections), summary=_short(summary, 90), items=Markup("").join(items)))


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

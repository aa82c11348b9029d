"""``spinekb check``: consistency checks over the KB, for guideline authors."""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from spinekb.cli.kb_options import chosen_kb, kb_options
from spinekb.kb.checks import failing, report_json, report_text, run_checks
from spinekb.kb.checks.for_kb import check_kb
from spinekb.explain.findings import findings_markdown


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people (grouped by check); json for programs.")
@click.option("--witnesses", "witness_dir", metavar="DIR", type=click.Path(file_okay=False), default=None,
              help="Also write, for each conflict, tension, overridden and never-satisfiable finding, a case "
                   "file found by clingo in which it happens (or, in DIR/index.json, why there is none).")
@click.option("--witness-seconds", type=click.FloatRange(1, 600), default=20, show_default=True,
              help="Time budget of each witness search.")
@kb_options
def check(fmt: str, witness_dir: str | None, witness_seconds: float, kb_dir: str | None, kb_ref: str | None) -> None:
    """Check the knowledge base itself: cross-references, the code table, criteria no case
    can meet, and studies one section approves where another says not to image.

    Exits 1 if any error or warning is found, 0 otherwise (info items alone pass),
    2 if the KB cannot be read.
    """
    knowledge = chosen_kb(kb_dir, kb_ref) if kb_dir or kb_ref else None
    try:
        issues = check_kb(knowledge) if knowledge else run_checks()
    except RuntimeError as error:  # a KB that does not parse or ground
        click.echo(f"error: kb: {error}", err=True)
        sys.exit(2)
    version = knowledge.version if knowledge else None
    if fmt == "json":
        click.echo(json.dumps(report_json(issues, version), indent=2))
    else:
        click.echo(report_text(issues, version))
    if witness_dir:
        _witnesses(issues, witness_dir, witness_seconds, knowledge)
    sys.exit(1 if failing(issues) else 0)


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True,
              help="Where to write the page (- for stdout).")
@click.option("--report", "report_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Render a saved report of `spinekb check --format json` (- for stdin) instead of "
                   "checking the KB now.")
def findings(output: str, report_file: Any) -> None:
    """Write the guideline findings page (docs/guideline-findings.md) from the JSON report of
    `spinekb check`: the findings about the guideline text itself, grouped by kind, each with its
    section ids and the guideline's words.

    Regenerate the page with: spinekb findings -o docs/guideline-findings.md

    Exits 0 (findings are the page's content, not a failure), 2 if the KB or the report cannot be read.
    """
    try:
        report = json.load(report_file) if report_file else report_json(run_checks())
        page = findings_markdown(report)
    except (RuntimeError, ValueError, KeyError) as error:  # a KB that does not ground; a report that is not one
        click.echo(f"error: {'report' if report_file else 'kb'}: {error}", err=True)
        sys.exit(2)
    with click.open_file(output, "w", encoding="utf-8") as out:
        out.write(page)


def _witnesses(issues: list[Any], folder: str, seconds: float, knowledge: Any) -> None:
    """Write a witness per witnessed finding (numbered as in the report) and say how it went."""
    from spinekb.bridge.witness import WITNESSED, write_witnesses

    findings = [(n, i.check, i.criteria, i.codes) for n, i in enumerate(issues, start=1) if i.check in WITNESSED]
    index = write_witnesses(findings, folder, knowledge, seconds)
    counts: dict[str, int] = {}
    for entry in index:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    click.echo(f"witnesses: {len(index)} findings searched, " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
               + f"; written to {folder} (index.json)", err=True)

"""``spinekb report``: a self-contained HTML report over a results file."""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from spinekb.explain.report import write_report


@click.command()
@click.argument("results", type=click.File("r", encoding="utf-8"))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="report.html",
              show_default=True, help="The HTML file to write.")
@click.option("--diff", "diff_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Add a section on a KB revision's impact: the JSON of `spinekb diff --format json`.")
@click.option("--no-charts", is_flag=True, help="Tables only (no chart rendering).")
@click.option("--facts", is_flag=True, help="Show the case facts behind each denial's reasons (a larger page).")
def report(results: Any, output: str, diff_file: Any, no_charts: bool, facts: bool) -> None:
    """Write one self-contained HTML page (no network needed to open it) over RESULTS, the JSON
    Lines of `spinekb evaluate --format jsonl` (- for stdin): totals; approvals and denials per
    CPT code, per section and per denial kind; the criteria that most often decide denials, in the
    guideline's words; the what-if actions most often needed (when the records carry them); and a
    table of every denial with its deciding reasons.

    The file is read once, a line at a time: memory stays flat however many records it has.
    Exits 0 when written, 2 when RESULTS or the --diff report cannot be read or OUTPUT written.
    """
    try:
        diff = json.load(diff_file) if diff_file else None
    except ValueError as error:
        click.echo(f"error: --diff: not the JSON of `spinekb diff --format json`: {error}", err=True)
        sys.exit(2)
    if diff is not None and not (isinstance(diff, dict) and {"base", "other", "criteria"} <= set(diff)):
        click.echo("error: --diff: not the JSON of `spinekb diff --format json`", err=True)
        sys.exit(2)
    try:
        data = write_report(results, output, source=getattr(results, "name", "-"), diff=diff, charts=not no_charts,
                            facts=facts)
    except OSError as error:
        click.echo(f"error: {output}: cannot write: {error.strerror or error}", err=True)
        sys.exit(2)
    click.echo(f"wrote {output}: {data.cases:,} cases, {data.studies:,} studies "
               f"({data.approved:,} approved, {data.denied:,} denied), {data.errors:,} rejected inputs", err=True)

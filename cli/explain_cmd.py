"""``spinekb explain``: why a requested study was approved or denied, and what would change it."""
from __future__ import annotations

import sys

import click

from spinekb.bridge.engine import Engine
from spinekb.bridge.loading import CaseInputError, load_case
from spinekb.cli.kb_options import chosen_kb, kb_options
from spinekb.explain import FORMATS, GraphvizMissing, UnknownStudy, explain_study, tracing_engine
from spinekb.explain.output import render, render_json, write_explanation


@click.command()
@click.argument("case_file", metavar="CASE", type=click.Path(dir_okay=False))
@click.option("--study", "cpt", metavar="CPT",
              help="The requested study to explain (may be left out if the case requests one; "
                   "with --format json and no --study, every requested study, as an array).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text; json (spinekb schema --explanation); or the graph as dot, svg or png.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file (required for svg and png); default: standard output.")
@click.option("--what-if", "what_if", is_flag=True,
              help="Text: every smallest edit set, each edit with the criterion it meets.")
@click.option("--detail", is_flag=True,
              help="Text: every candidate pathway, condition by condition, down to the case facts and rules.")
@click.option("--full", is_flag=True,
              help="Pictures: every candidate pathway unfolded down to the case facts (the default "
                   "picture shows the answer: the closest pathway, its unmet leaves, the what-if).")
@kb_options
def explain(case_file: str, cpt: str | None, fmt: str, output: str | None, what_if: bool, detail: bool,
            full: bool, kb_dir: str | None, kb_ref: str | None) -> None:
    """Explain the decision on one requested study of the case in CASE.

    The answer comes first, in at most 12 lines: the decision and its kind (documentation
    needed, not yet, not supported), the deciding reasons in the guideline's words with the
    case's own dates and values, the reading of the guideline they rest on, and what is supported
    instead. Then what would change it: the smallest sets of changes a provider can make
    (document a finding, see the patient in person, continue treatment until a date, resubmit
    on or after a date ...), computed by clingo, and the documentation that would decide it, as
    questions. --detail adds every candidate pathway condition by condition.

    Exits 0 when explained, 2 on a bad case file or a study the case does not request,
    3 when a picture was asked for but graphviz's dot program is not installed (the DOT
    file is written instead).
    """
    if fmt in ("svg", "png") and not output:
        _fail(f"error: --format {fmt} needs -o FILE", 2)
    try:
        case = load_case(case_file)
    except CaseInputError as error:
        _fail(str(error), 2)
    knowledge = chosen_kb(kb_dir, kb_ref) if kb_dir or kb_ref else None
    engine = Engine(trace=True, knowledge=knowledge) if knowledge else tracing_engine()
    if fmt == "json" and cpt is None and len(case.request.codes) > 1:  # every study: an array
        text = render_json([explain_study(engine, case, code) for code in case.request.codes])
        _write(text, output)
        return
    try:
        explanation = explain_study(engine, case, cpt)
    except UnknownStudy as error:
        _fail(f"error: {error}", 2)
    if not output:
        click.echo(render(explanation, fmt, full, detail, what_if), nl=False)
        return
    try:
        written = write_explanation(explanation, fmt, output, full, detail, what_if)
    except GraphvizMissing as error:
        _fail(f"error: {error}", 3)
    except OSError as error:
        _fail(f"error: {output}: cannot write: {error.strerror or error}", 2)
    click.echo(f"wrote {written}", err=True)


def _write(text: str, output: str | None) -> None:
    if not output:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        _fail(f"error: {output}: cannot write: {error.strerror or error}", 2)
    click.echo(f"wrote {output}", err=True)


def _fail(line: str, code: int) -> None:
    click.echo(line, err=True)
    sys.exit(code)

"""``spinekb explain``: why a requested study was approved or denied, as text or a picture."""
from __future__ import annotations

import sys

import click

from spinekb.bridge.engine import Engine
from spinekb.bridge.loading import CaseInputError, load_case
from spinekb.cli.kb_options import chosen_kb, kb_options
from spinekb.explain import (FORMATS, GraphvizMissing, UnknownStudy, explain_result, explain_study, render,
                             tracing_engine, write_explanation)


@click.command()
@click.argument("case_file", metavar="CASE", type=click.Path(dir_okay=False))
@click.option("--study", "cpt", metavar="CPT",
              help="The requested study to explain (may be left out if the case requests one).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text, or the derivation graph as dot, svg or png.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file (required for svg and png); default: standard output.")
@click.option("--full", is_flag=True,
              help="Pictures: unfold every candidate pathway down to the case facts, not only "
                   "the closest (the text always does).")
@kb_options
def explain(case_file: str, cpt: str | None, fmt: str, output: str | None, full: bool,
            kb_dir: str | None, kb_ref: str | None) -> None:
    """Explain the decision on one requested study of the case in CASE.

    For an approval: the pathway that held, each condition, which branch of each any-of held,
    down to the leaf criteria, their rules (kb/<file>.lp:<line>) and the case facts they read.
    For a denial: every pathway that could have approved the study, each condition met or
    unmet with the guideline's words, the statements that applied, what the case would need
    under the closest pathway, and the studies it would be approved for instead.

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
    try:
        explanation = explain_study(engine, case, cpt)
    except UnknownStudy as error:
        _fail(f"error: {error}", 2)
    if knowledge is not None and not knowledge.is_installed:  # rule locations and inputs of that KB
        explanation = explain_result(engine.kb, case, engine.evaluate_one(case), explanation.cpt,
                                     structure=knowledge.structure)
    if not output:
        click.echo(render(explanation, fmt, full), nl=False)
        return
    try:
        written = write_explanation(explanation, fmt, output, full)
    except GraphvizMissing as error:
        _fail(f"error: {error}", 3)
    except OSError as error:
        _fail(f"error: {output}: cannot write: {error.strerror or error}", 2)
    click.echo(f"wrote {written}", err=True)


def _fail(line: str, code: int) -> None:
    click.echo(line, err=True)
    sys.exit(code)

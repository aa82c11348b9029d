"""``spinekb check``: consistency checks over the KB, for guideline authors."""
from __future__ import annotations

import json
import sys

import click

from spinekb.bridge.checks import failing, report_json, report_text, run_checks


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people (grouped by check); json for programs.")
def check(fmt: str) -> None:
    """Check the knowledge base itself: cross-references, the code table, criteria no case
    can meet, and studies one section approves where another says not to image.

    Exits 1 if any error or warning is found, 0 otherwise (info items alone pass),
    2 if the KB cannot be read.
    """
    try:
        issues = run_checks()
    except RuntimeError as error:  # a KB that does not parse or ground
        click.echo(f"error: kb: {error}", err=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(report_json(issues), indent=2))
    else:
        click.echo(report_text(issues))
    sys.exit(1 if failing(issues) else 0)

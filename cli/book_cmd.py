"""``spinekb book``: the literate guideline as a static, offline, searchable site."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from spinekb.cli.kb_options import chosen_kb, kb_options
from spinekb.explain.book import read_witnesses, write_book
from spinekb.kb.checks.for_kb import check_kb


@click.command()
@click.option("-o", "--output", type=click.Path(file_okay=False), default="site", show_default=True,
              help="The folder to write the site to (index.html first).")
@click.option("--no-check", is_flag=True, help="Leave out the findings of `spinekb check` (faster).")
@click.option("--witnesses", "witness_dir", metavar="DIR", type=click.Path(file_okay=False, exists=True),
              default=None, help="Link each finding to its witness: the folder `spinekb check --witnesses DIR` "
                                 "wrote (copied into the site).")
@kb_options
def book(output: str, no_check: bool, witness_dir: str | None, kb_dir: str | None, kb_ref: str | None) -> None:
    """Write the guideline as a static site that opens offline: every section's text sentence by
    sentence, each criterion's words highlighted and linked to its rule (kb/<file>.lp:<line>), its
    readings and its YAML tests (met / unmet); sentences the KB does not encode marked, with the
    `% not encoded:` note where there is one; each section's share of text encoded; and the
    findings of `spinekb check` beside the sentences they concern. search.html searches it all.

    Exits 0 when written, 2 when the KB or the guideline text cannot be read.
    """
    knowledge = chosen_kb(kb_dir, kb_ref)
    try:
        issues = [] if no_check else check_kb(knowledge)
        witnesses = read_witnesses(Path(witness_dir), Path(output), issues) if witness_dir else None
        pages = write_book(output, knowledge, issues, witnesses)
    except (FileNotFoundError, RuntimeError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"wrote {len(pages)} files to {output}: open {Path(output) / 'index.html'}", err=True)

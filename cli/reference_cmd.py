"""``spinekb schema`` and ``spinekb vocabulary``: the case format, for people and programs."""
from __future__ import annotations

import json

import click

from spinekb.kb.notes import kb_notes
from spinekb.bridge.models import Case
from spinekb.bridge.records import output_schema
from spinekb.kb.vocabulary import vocabulary as load_vocabulary


@click.command()
@click.option("--output", "what", flag_value="output",
              help="The schema of a decision record (what `evaluate --format json/jsonl` prints).")
@click.option("--explanation", "what", flag_value="explanation",
              help="The schema of an explanation (what `explain --format json` prints, one object per study).")
@click.option("--case", "what", flag_value="case", default=True, help="The schema of a case file (default).")
def schema(what: str) -> None:
    """Print the JSON Schema of a case file, (--output) of a decision record, or (--explanation)
    of an explanation."""
    if what == "explanation":
        from spinekb.explain.model import explanation_schema

        click.echo(json.dumps(explanation_schema(), indent=2))
        return
    click.echo(json.dumps(output_schema() if what == "output" else Case.model_json_schema(), indent=2))


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def vocabulary(fmt: str) -> None:
    """List every documented-finding term with its definition and the sections that use it."""
    terms = load_vocabulary().values()
    if fmt == "json":
        click.echo(json.dumps([{"term": t.name, "definition": t.definition, "sections": list(t.sections)}
                               for t in terms], indent=2))
        return
    for term in terms:
        click.echo(f"{term.name}  [{', '.join(term.sections)}]\n    {term.definition}")


@click.command()
@click.option("--section", default=None, help="Only notes of this section, e.g. SP-1.2.")
@click.option("--kind", type=click.Choice(["reading", "not encoded"]), default=None,
              help="Only readings, or only passages not encoded.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def readings(section: str | None, kind: str | None, fmt: str) -> None:
    """List how the KB reads ambiguous guideline passages, and what it leaves out, with locations."""
    notes = [n for n in kb_notes() if (section is None or n.section == section) and (kind is None or n.kind == kind)]
    if fmt == "json":
        click.echo(json.dumps([{"kind": n.kind, "section": n.section, "where": n.where(), "text": n.text}
                               for n in notes], indent=2))
        return
    for note in notes:
        click.echo(f"{note.section}  {note.kind}  ({note.where()})\n    {note.text}")

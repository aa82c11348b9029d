"""docs/guideline-findings.md: generated from the check's JSON report by `spinekb findings`, and
kept current."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spinekb.kb.checks import CHECKS, GUIDELINE_FINDINGS, report_json, run_checks
from spinekb.cli.main import main
from spinekb.explain.findings import COMMAND, findings_markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guideline-findings.md"


@pytest.fixture(scope="module")
def report():
    """The JSON report of the installed KB, as `spinekb check --format json` prints it."""
    return json.loads(json.dumps(report_json(run_checks())))


def test_the_findings_page_is_current(report):
    """The committed page is what the command writes for the KB and text as they are now."""
    assert PAGE.is_file(), f"docs/guideline-findings.md is missing: run `{COMMAND}` (or `make findings`)"
    assert PAGE.read_text(encoding="utf-8") == findings_markdown(report), (
        f"docs/guideline-findings.md is out of date: run `{COMMAND}` (or `make findings`)")


def test_the_page_names_its_command_and_groups_the_guideline_findings_by_kind(report):
    """Its header names the command; one section per kind of guideline finding the report has,
    in the report's order; no finding about the encoding (criteria, declarations)."""
    page = findings_markdown(report)
    assert COMMAND in page.split("\n\n")[1]
    kinds = [k for k in CHECKS if k in GUIDELINE_FINDINGS and any(i["check"] == k for i in report["issues"])]
    headings = [line[3:].split(":")[0] for line in page.splitlines() if line.startswith("## ")]
    assert headings == kinds
    assert "## threshold_undeclared" not in page and "## xref_not_encoded" not in page


def test_every_finding_on_the_page_has_its_sections_and_words(report):
    """Each finding's bullet names every section of the finding and holds the words it quotes."""
    bullets = findings_markdown(report).split("\n- ")[1:]
    findings = [i for i in report["issues"] if i["check"] in GUIDELINE_FINDINGS]
    assert len(bullets) == len(findings)
    for issue, bullet in zip(findings, bullets, strict=True):
        assert all(section in bullet for section in issue["sections"]), bullet
        assert all(quote["words"] in bullet for quote in issue["quotes"]), bullet


def test_findings_writes_the_page_and_renders_a_saved_report_alike(tmp_path, report):
    """`spinekb findings -o FILE` and `spinekb check --format json | spinekb findings --report -`
    write the same page, and exit 0 whatever the findings."""
    runner = CliRunner()
    written = tmp_path / "findings.md"
    result = runner.invoke(main, ["findings", "-o", str(written)])
    assert result.exit_code == 0, result.output
    saved = runner.invoke(main, ["check", "--format", "json"]).stdout
    piped = runner.invoke(main, ["findings", "--report", "-"], input=saved)
    assert piped.exit_code == 0 and piped.stdout == written.read_text(encoding="utf-8")
    assert piped.stdout == findings_markdown(report)


def test_findings_exits_2_on_a_report_that_is_not_one():
    """A file that is not the JSON of `spinekb check` is a user error: one line, exit 2."""
    result = CliRunner().invoke(main, ["findings", "--report", "-"], input="{}")
    assert result.exit_code == 2 and result.stderr.startswith("error: report:")

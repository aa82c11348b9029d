"""The cache on disk of the KB's structure (kb/cache.py): what it gives back equals a fresh
parse, it is keyed by the KB and the code, and a broken or unwritable cache is ignored."""
from __future__ import annotations

import subprocess
import sys

from spinekb.kb import kb_text, kb_version
from spinekb.kb.cache import cached_json
from spinekb.kb.static import read_static, static_from_json, static_to_json
from spinekb.kb.structure import parse_structure, structure_from_json, structure_to_json
from spinekb.kb.syntax import kb_statements


def test_the_structure_survives_the_round_trip_through_json():
    fresh = parse_structure(kb_statements())
    assert structure_from_json(structure_to_json(fresh)) == fresh


def test_the_static_tables_survive_the_round_trip_through_json():
    """Every table, in its order (pathways_for gives pathways in KB order), and the code table."""
    fresh = read_static(kb_text(), kb_version())
    back = static_from_json(static_to_json(fresh))
    assert back == fresh
    assert list(back.pathway_studies) == list(fresh.pathway_studies) and back.pathways_for("72148") == \
        fresh.pathways_for("72148")


def test_an_entry_is_built_once_then_read(tmp_path, monkeypatch):
    monkeypatch.setenv("SPINEKB_CACHE_DIR", str(tmp_path))
    calls = []
    build = lambda: calls.append(1) or {"a": [1, 2]}  # noqa: E731
    assert cached_json("thing", "k1", build) == {"a": [1, 2]}
    assert cached_json("thing", "k1", build) == {"a": [1, 2]} and len(calls) == 1
    assert cached_json("thing", "k2", build) == {"a": [1, 2]} and len(calls) == 2  # another key
    (tmp_path / "thing-k1.json").write_text("{broken", encoding="utf-8")
    assert cached_json("thing", "k1", build) == {"a": [1, 2]} and len(calls) == 3  # rebuilt


def test_no_cache_when_off_or_unwritable(tmp_path, monkeypatch):
    monkeypatch.setenv("SPINEKB_CACHE_DIR", "off")
    assert cached_json("thing", "k", lambda: 7) == 7
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("SPINEKB_CACHE_DIR", str(blocker / "below-a-file"))
    assert cached_json("thing", "k", lambda: 8) == 8


def test_a_new_process_reads_the_structure_a_first_one_wrote(tmp_path):
    """Two processes with the same cache folder: the first writes the entry, the second's
    structure (read from it) equals the first's (parsed)."""
    code = ("import json; from spinekb.kb.structure import kb_structure, structure_to_json; "
            "print(json.dumps(structure_to_json(kb_structure())))")
    env = {"SPINEKB_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    entries = list(tmp_path.glob("structure-*.json"))
    assert len(entries) == 1
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert first == second

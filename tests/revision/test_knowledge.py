"""KnowledgeBase: the installed KB, another folder, kb/ at a git revision; an Engine on each."""
from __future__ import annotations

import pickle
import subprocess

import pytest

from spinekb.bridge.engine import Engine
from spinekb.bridge.loading import load_case
from spinekb.kb import kb_dir, kb_version
from spinekb.kb.knowledge import KbUnavailable, KnowledgeBase
from spinekb.kb.static import static_kb
from spinekb.kb.structure import kb_structure

from kbcopies import ROOT, copy_kb


def test_installed_value_shares_the_process_caches():
    """The default KB hands out the cached tables: nothing is parsed twice."""
    installed = KnowledgeBase.installed()
    assert installed.is_installed and installed.static is static_kb() and installed.structure is kb_structure()
    assert installed.version == kb_version() and Engine().knowledge.is_installed


def test_a_copy_has_the_same_version_and_an_edit_another(tmp_path):
    """The version is a digest of file names and bytes, wherever the folder is."""
    same = KnowledgeBase.at(copy_kb(tmp_path / "same"))
    assert not same.is_installed and same.version == kb_version()
    assert len(same.static.criteria) == len(static_kb().criteria)
    edited = KnowledgeBase.at(copy_kb(tmp_path / "edited", {"sp1_0_general.lp": ("window(recent, 90).",
                                                                                  "window(recent, 91).")}))
    assert edited.version != kb_version()


def test_an_engine_decides_under_the_kb_it_is_given(kb90, f2f_cases):
    """The 75-day case is denied under the 60-day window and approved under the 90-day one."""
    case = load_case(f2f_cases / "lbp-75.json")
    assert Engine().evaluate_one(case).studies[0].decision == "denied"
    other = Engine(knowledge=KnowledgeBase.at(kb90)).evaluate_one(case)
    assert other.studies[0].decision == "approved" and other.kb_version == KnowledgeBase.at(kb90).version


def test_unreadable_kbs_say_why_in_one_line(tmp_path):
    """A missing folder, a folder that is no KB, an unknown revision: one-line errors."""
    with pytest.raises(KbUnavailable, match="no such folder"):
        KnowledgeBase.at(tmp_path / "missing")
    with pytest.raises(KbUnavailable, match="no decide.lp"):
        KnowledgeBase.at(tmp_path)
    with pytest.raises(KbUnavailable, match="no such revision"):
        KnowledgeBase.from_git("no-such-ref-anywhere")
    with pytest.raises(KbUnavailable, match="give one of them"):
        KnowledgeBase.choose(str(tmp_path), "HEAD")


def test_broken_kb_fails_when_read(tmp_path):
    """A KB that does not parse raises KbUnavailable naming it."""
    broken = copy_kb(tmp_path / "broken", {"decide.lp": ("composite(Q) :- all_of(Q, _).", "composite(Q) :- all_of(Q")})
    with pytest.raises(KbUnavailable, match="does not parse"):
        KnowledgeBase.at(broken).static  # noqa: B018


def test_git_revision_holds_the_files_of_that_revision():
    """kb/ at HEAD is extracted file for file as `git show HEAD:kb/<file>` gives it."""
    knowledge = KnowledgeBase.from_git("HEAD")
    assert knowledge.name == "git:HEAD" and knowledge.files
    for path in knowledge.files[:5]:
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:kb/{path.name}"], capture_output=True,
                               check=True).stdout
        assert path.read_bytes() == shown
    folder = knowledge.dir
    del knowledge
    assert not folder.exists(), "the temporary folder is removed with the value"


def test_values_pickle_as_their_folder(kb90):
    """Batch workers rebuild the value from its folder."""
    other = pickle.loads(pickle.dumps(KnowledgeBase.at(kb90)))
    assert other.dir == kb90 and other.version == KnowledgeBase.at(kb90).version
    assert pickle.loads(pickle.dumps(KnowledgeBase.installed())).is_installed
    assert KnowledgeBase.at(kb_dir()).is_installed


def test_batch_workers_decide_under_the_kb_they_are_given(kb90, f2f_cases):
    """Worker processes rebuild the KB from its folder: a multi-chunk batch decides under it."""
    import json

    from spinekb.bridge.batch import render_batch

    lines = [json.loads(r.text) for r in render_batch([str(f2f_cases)], jobs=2, chunk_size=2,
                                                      knowledge=KnowledgeBase.at(kb90))]
    assert {r["kb_version"] for r in lines} == {KnowledgeBase.at(kb90).version}
    decided = {r["case_id"]: r["studies"][0]["decision"] for r in lines}
    assert decided["lbp-initial-eval-75-days"] == "approved" and decided["lbp-initial-eval-91-days"] == "denied"

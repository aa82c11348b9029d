"""Which knowledge base: the installed one, another folder of ``.lp`` files, or ``kb/`` as it was
at a git revision. One value holds a KB's folder, text, version, parsed statements, static tables,
rule structure and notes, each read once, when first asked for::

    >>> installed = KnowledgeBase.installed()
    >>> installed.version == kb_version() and installed.static is static_kb()
    True
    >>> other = KnowledgeBase.at(installed.dir)          # any folder of .lp files in the same shape
    >>> other.version == installed.version
    True

``Engine(knowledge=KnowledgeBase.at("other/kb"))`` decides under another KB;
``KnowledgeBase.from_git("HEAD~3")`` extracts ``kb/`` of a revision (``git archive``) into a
temporary folder that lives as long as the value. The installed KB's value hands out the
process-wide cached tables (:func:`spinekb.kb.kb_text`, :func:`spinekb.kb.syntax.kb_statements`,
:func:`spinekb.kb.static.static_kb`, :func:`spinekb.kb.structure.kb_structure`), so existing callers
and this value never parse it twice.

A value pickles as its folder (and the way it was named), so batch workers rebuild it cheaply.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
import weakref
from functools import cached_property
from pathlib import Path
from typing import Any

from spinekb.kb import kb_dir, kb_files, kb_text, kb_version, program_text, version_of
from spinekb.kb.notes import Note, kb_notes, parse_notes
from spinekb.kb.static import StaticKB, read_static, static_kb
from spinekb.kb.structure import KbStructure, kb_structure, parse_structure
from spinekb.kb.syntax import Statement, kb_statements, parse_program


class KbUnavailable(ValueError):
    """A KB folder or git revision that cannot be read; the message is one line."""


class KnowledgeBase:
    """One knowledge base: a folder of ``.lp`` files read as one decision program.

    ``name`` is how a person named it (``installed``, the folder as given, ``git:<ref>``).
    """

    def __init__(self, folder: str | Path, name: str | None = None, *, _installed: bool = False,
                 _keep: Any = None) -> None:
        self.dir = Path(folder)
        self.name = name or str(folder)
        self._installed = _installed
        self._keep = _keep  # what keeps a temporary folder alive (a finalizer), if any

    # -- the ways to name one ------------------------------------------------------------------
    @classmethod
    def installed(cls) -> KnowledgeBase:
        """The KB this package ships (``spinekb.kb.kb_dir()``)."""
        return cls(kb_dir(), "installed", _installed=True)

    @classmethod
    def at(cls, folder: str | Path, name: str | None = None) -> KnowledgeBase:
        """Another KB folder; raises :class:`KbUnavailable` unless it holds a ``decide.lp`` and
        section files beside it."""
        path = Path(folder)
        if not path.is_dir():
            raise KbUnavailable(f"{folder}: no such folder")
        if not (path / "decide.lp").is_file():
            raise KbUnavailable(f"{folder}: not a KB folder (no decide.lp)")
        if path.resolve() == kb_dir().resolve():
            return cls(kb_dir(), name or str(folder), _installed=True)
        return cls(path, name or str(folder))

    @classmethod
    def from_git(cls, ref: str, repository: str | Path | None = None) -> KnowledgeBase:
        """``kb/`` as it was at git revision ``ref`` of ``repository`` (default: the repository
        holding the installed KB), extracted with ``git archive`` into a temporary folder that is
        removed when the value is no longer used."""
        repo = Path(repository) if repository else kb_dir().parent
        commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
                      failure=f"--kb-ref {ref}: no such revision in {repo}").strip()
        archive = _git_bytes(repo, "archive", "--format=tar", commit, "kb",
                             failure=f"--kb-ref {ref}: revision {commit[:12]} has no kb/ folder")
        root = Path(tempfile.mkdtemp(prefix=f"spinekb-kb-{commit[:12]}-"))
        try:
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(root, filter="data")
            value = cls.at(root / "kb", f"git:{ref}")
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        value._keep = weakref.finalize(value, shutil.rmtree, root, True)
        value.ref = ref  # type: ignore[attr-defined]
        value.commit = commit  # type: ignore[attr-defined]
        return value

    @classmethod
    def choose(cls, folder: str | None = None, ref: str | None = None) -> KnowledgeBase:
        """The KB a command's ``--kb DIR`` / ``--kb-ref REF`` name (the installed one if neither)."""
        if folder and ref:
            raise KbUnavailable("--kb and --kb-ref name two KBs: give one of them")
        if ref:
            return cls.from_git(ref)
        if folder:
            return cls.at(folder)
        return cls.installed()

    # -- what it holds ---------------------------------------------------------------------------
    @property
    def is_installed(self) -> bool:
        """Whether this is the KB the package ships."""
        return self._installed

    @cached_property
    def files(self) -> list[Path]:
        """Its ``.lp`` files, in the stable order the program text uses."""
        return kb_files() if self._installed else sorted(self.dir.glob("*.lp"))

    @cached_property
    def text(self) -> str:
        """The decision program as one text to ground (:func:`spinekb.kb.program_text`)."""
        return kb_text() if self._installed else program_text(self.files)

    @cached_property
    def statements(self) -> tuple[Statement, ...]:
        """Its files' statements as clingo parses them, each with its file and line
        (:func:`spinekb.kb.syntax.parse_program`)."""
        return kb_statements() if self._installed else parse_program(self.files, self.dir)

    @cached_property
    def version(self) -> str:
        """The guideline version and the digest of the files (what every record names)."""
        return kb_version() if self._installed else version_of(self.files)

    @cached_property
    def static(self) -> StaticKB:
        """Criteria, pathways, code table, sections (grounded once, without cases)."""
        if self._installed:
            return static_kb()
        try:
            return read_static(self.text, self.version)
        except RuntimeError as error:
            raise KbUnavailable(f"{self.name}: the KB does not parse or ground: {error}") from error

    @cached_property
    def structure(self) -> KbStructure:
        """Which rules define each criterion, where, and the case facts they read."""
        return kb_structure() if self._installed else parse_structure(self.statements)

    @cached_property
    def notes(self) -> tuple[Note, ...]:
        """Every ``% reading:`` and ``% not encoded:`` note, file by file."""
        return kb_notes() if self._installed else tuple(n for path in self.files for n in parse_notes(path))

    def companion(self, relative: str) -> Path:
        """A file kept beside the decision program (``checks/checks.lp``, ``whatif/whatif.lp``):
        this KB's own if it has one, else the installed KB's."""
        own = self.dir / relative
        return own if own.is_file() else kb_dir() / relative

    def __repr__(self) -> str:
        return f"KnowledgeBase({self.name!r}, {str(self.dir)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # a worker process rebuilds the value from its folder (the tables are read again there)
        if self._installed:
            return (KnowledgeBase.installed, ())
        return (KnowledgeBase, (str(self.dir), self.name))


def _git(repo: Path, *args: str, failure: str) -> str:
    return _git_bytes(repo, *args, failure=failure).decode("utf-8", "replace")


def _git_bytes(repo: Path, *args: str, failure: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise KbUnavailable("git is not installed: --kb-ref needs it") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise KbUnavailable(failure + (f" ({detail[0]})" if detail else ""))
    return done.stdout

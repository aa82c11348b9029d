"""`spinekb evaluate` end to end (issue 8): every input gets exactly one record in input order,
whatever the other inputs hold, with no traceback; the output does not depend on --jobs,
--chunk-size or the order of the other cases. Run as a real process where processes matter
(worker pools, FIFOs, closed pipes)."""
from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from spinekb.cli.main import main

SPINEKB = str(Path(sys.executable).with_name("spinekb"))
GENERATOR = Path(__file__).parents[2] / "bench" / "generate.py"
GOOD = {
    "request": {"id": "ok", "date": "2024-05-01", "cpt": ["72148"], "purpose": "diagnosis"},
    "patient": {"age": 54, "sex": "female"},
    "episode": {"regions": ["lumbar"], "condition": "low_back_pain", "onset": "2024-01-10"},
}


def line(identifier: str, **request: object) -> bytes:
    return json.dumps({**GOOD, "request": {**GOOD["request"], "id": identifier, **request}}).encode()


def run(args: list[str], stdin: bytes = b"", timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([SPINEKB, "evaluate", *args], input=stdin, capture_output=True, timeout=timeout)


def records(stdout: bytes) -> list[dict]:
    return [json.loads(text) for text in stdout.decode().splitlines()]


def test_a_time_with_an_offset_costs_its_own_line_only_on_stdin():
    """Issue 8.1 through the CLI: 3,712 inputs used to give 0 records; now every line gets one."""
    lines = [line(f"c{i}") for i in range(40)]
    lines[17] = line("offset", time="12:00:00+02:00")
    lines[29] = line("zero", time=0)
    result = CliRunner().invoke(main, ["evaluate", "-", "--format", "jsonl"], input=b"\n".join(lines))
    assert result.exit_code == 2 and result.exception is None or isinstance(result.exception, SystemExit)
    found = records(result.stdout_bytes)
    assert [r["case_id"] for r in found] == [f"c{i}" if i not in (17, 29) else ("offset", "zero")[i == 29]
                                             for i in range(40)]
    assert found[17]["error"].startswith("request.time: give a local time without a UTC offset")
    assert found[29]["error"].startswith("request.time: give a local time as an \"HH:MM\"")
    assert result.stderr.count("\n") == 2 and "Traceback" not in result.stderr


def test_bad_lines_of_every_kind_cost_their_own_line_only_across_worker_processes(tmp_path):
    """Issues 8.1-8.4 in one batch through worker processes (--jobs 2, chunks of 10): deep JSON,
    bad UTF-8, an offset time, a 2 MB line, a bare CR inside a line; the same bytes from a .jsonl
    file and from stdin give the same records, with the sources' line numbers."""
    bad = {7: b"[" * 10_000 + b"]" * 10_000, 12: b'{"request": "\xff"}', 18: line("t", time="09:00Z"),
           23: b'{"id": "' + b"x" * 2_000_000 + b'"}'}
    lines = [bad.get(i, line(f"c{i}")) for i in range(30)]
    lines[3] = line("c3").replace(b', "patient"', b',\r"patient"')
    data = b"\n".join(lines) + b"\n"
    (tmp_path / "batch.jsonl").write_bytes(data)
    from_stdin = run(["-", "--format", "jsonl", "--jobs", "2", "--chunk-size", "10"], data)
    from_file = run([str(tmp_path / "batch.jsonl"), "--format", "jsonl", "--jobs", "2", "--chunk-size", "10"])
    assert from_stdin.returncode == from_file.returncode == 2
    assert b"Traceback" not in from_stdin.stderr + from_file.stderr
    stdin_records, file_records = records(from_stdin.stdout), records(from_file.stdout)
    assert len(stdin_records) == len(file_records) == 30
    for n, (a, b) in enumerate(zip(stdin_records, file_records, strict=True), start=1):
        assert {k: v for k, v in a.items() if k != "source"} == {k: v for k, v in b.items() if k != "source"}
        if n - 1 in bad:
            assert (a["source"], b["source"]) == (f"<stdin>:{n}", f"{tmp_path / 'batch.jsonl'}:{n}") and a["error"]
        else:
            assert a["case_id"] == f"c{n - 1}" and "studies" in a
    assert [stdin_records[i]["error"] for i in (7, 23)] == [
        "nested more than 32 levels deep", f"case is {len(bad[23]):,} bytes; the limit is 1,000,000"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_and_a_device_are_refused_at_once(tmp_path):
    """Issue 8.5: a FIFO used to hang the run forever, a symlink to /dev/zero to grow to gigabytes."""
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "zero.jsonl").symlink_to("/dev/zero")
    (tmp_path / "good.json").write_bytes(line("good"))
    result = run([str(tmp_path), "--format", "jsonl"], timeout=60)
    assert result.returncode == 2
    assert [r.get("case_id") or r["error"][:30] for r in records(result.stdout)] == [
        "not a regular file (a FIFO); o", "good", "not a regular file (a characte"]


def test_a_closed_pipe_ends_the_run_quietly():
    """`spinekb evaluate ... | head -1`: no BrokenPipeError traceback."""
    lines = b"\n".join(line(f"c{i}") for i in range(200))
    process = subprocess.Popen([SPINEKB, "evaluate", "-", "--format", "jsonl"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write(lines)
    process.stdin.close()
    process.stdout.readline()
    process.stdout.close()
    process.wait(timeout=120)
    assert b"Traceback" not in process.stderr.read()


@pytest.fixture(scope="module")
def generated_lines() -> list[bytes]:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return [json.dumps(case).encode() for case in module.generate(120, seed=11)]


def test_output_bytes_do_not_depend_on_jobs_chunk_size_or_the_other_cases(generated_lines):
    """Issue 8.9: the same case gives the same bytes in one grounding of 120 cases (facts filtered),
    in chunks of 30 over two workers, and shuffled in chunks of 40."""
    data = b"\n".join(generated_lines) + b"\n"
    one_grounding = run(["-", "--format", "jsonl", "--jobs", "1", "--chunk-size", "1000"], data)
    small_chunks = run(["-", "--format", "jsonl", "--jobs", "2", "--chunk-size", "30"], data)
    reordered = list(reversed(generated_lines))
    random.Random(3).shuffle(reordered)
    shuffled = run(["-", "--format", "jsonl", "--jobs", "2", "--chunk-size", "40"], b"\n".join(reordered) + b"\n")
    assert one_grounding.returncode == small_chunks.returncode == shuffled.returncode == 0
    assert one_grounding.stdout == small_chunks.stdout
    by_id = {json.loads(text)["case_id"]: text for text in one_grounding.stdout.decode().splitlines()}
    assert len(by_id) == 120
    assert shuffled.stdout.decode().splitlines() == [by_id[json.loads(text)["request"]["id"]] for text in reordered]

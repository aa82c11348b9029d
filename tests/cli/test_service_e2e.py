"""`spinekb serve` as a real process on a loopback port, spoken to over HTTP: it starts, decides
every example (case and Bundle) exactly like the command line under concurrent clients, answers
CDS Hooks and errors, and stops on SIGTERM."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from spinekb.bridge.batch import evaluate_sources
from spinekb.cli.service import hook_request

ROOT = Path(__file__).resolve().parents[2]
CASES, BUNDLES = ROOT / "examples" / "cases", ROOT / "examples" / "fhir"


def free_port() -> int:
    """A port nobody listens on right now (the kernel's choice on 127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spinekb_command() -> list[str]:
    script = Path(sys.executable).with_name("spinekb")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from spinekb.cli.main import main; main()"]


class Server:
    """A `spinekb serve` process and a way to talk to it."""

    def __init__(self, *options: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([*spinekb_command(), "serve", "--port", str(self.port), *options],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"spinekb serve exited: {self.process.stdout.read().decode()}")
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("spinekb serve did not answer /health within 90 s")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
            answer = connection.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            connection.close()

    def post_json(self, path: str, data: object) -> tuple[int, object]:
        status, _, body = self.request("POST", path, json.dumps(data).encode())
        return status, json.loads(body)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="module")
def server():
    running = Server("--max-body-bytes", "100000")
    yield running
    running.stop()


def test_it_answers_health_and_discovery_over_http(server):
    status, headers, body = server.request("GET", "/health")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body)["kb_version"].startswith("spine-imaging-V1.0.2023+kb.")
    status, _, body = server.request("GET", "/cds-services")
    assert {s["id"] for s in json.loads(body)["services"]} == {"spinekb-order-select", "spinekb-order-sign"}


def test_concurrent_clients_get_exactly_the_command_lines_decisions_for_every_example(server):
    """Every example's Bundle, posted by 8 clients at once: the service decides them in shared
    groundings, and every record equals `spinekb evaluate`'s on the case file (the case JSON door
    over HTTP is tests/cli/test_service.py's)."""
    expected = {o.case_id: o.to_json() for o in evaluate_sources([str(CASES)])}
    documents = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(BUNDLES.glob("*.json"))]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda document: server.post_json("/evaluate", document), documents))
    assert all(status == 200 for status, _ in answers)
    records = [record for _, record in answers]
    assert len(records) == len(expected)
    for record in records:
        assert record == expected[record["case_id"]], record["case_id"]


def test_a_cds_hooks_call_over_http(server):
    bundle = json.loads((BUNDLES / "denied-no-trial.json").read_text(encoding="utf-8"))
    status, answer = server.post_json("/cds-services/spinekb-order-sign", hook_request(bundle))
    assert status == 200
    assert answer["cards"][0]["indicator"] == "warning" and "A4" in answer["cards"][0]["detail"]
    link = answer["cards"][0]["links"][0]["url"]
    assert link.startswith(f"http://127.0.0.1:{server.port}/explanations/")
    status, headers, page = server.request("GET", link.split(str(server.port), 1)[1], headers={"Accept": "text/html"})
    assert status == 200 and headers["content-type"].startswith("text/html") and b"DENIED" in page


def test_the_explorer_is_served_at_the_root(server):
    """`spinekb serve` serves the web explorer at / (the form, the examples) and decides its form."""
    status, headers, page = server.request("GET", "/", headers={"Accept": "text/html"})
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"spinekb explorer" in page and b'value="denied-no-trial"' in page
    case = (CASES / "denied-no-trial.json").read_text(encoding="utf-8")
    from urllib.parse import urlencode

    status, _, page = server.request("POST", "/explorer/decide", urlencode({"case": case}).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and b'id="study-72148"' in page and b"sp5_1_c3" in page


def test_errors_over_http_are_json(server):
    status, _, body = server.request("POST", "/evaluate", b"{broken")
    assert status == 422 and json.loads(body)["error"].startswith("invalid JSON")
    status, _, body = server.request("POST", "/evaluate", b"[" + b"0," * 60_000 + b"0]")
    assert status == 413 and "larger than 100000 bytes" in json.loads(body)["error"]


def test_it_stops_on_sigterm():
    """A graceful stop: uvicorn finishes and re-raises the signal (exit status -15), no kill needed."""
    running = Server()
    started = time.monotonic()
    assert running.stop() in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 30


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="two workers want two CPUs")
def test_two_worker_processes_answer_alike():
    running = Server("--workers", "2")
    try:
        case = json.loads((CASES / "denied-no-trial.json").read_text(encoding="utf-8"))
        answers = {json.dumps(running.post_json("/evaluate", case)[1], sort_keys=True) for _ in range(4)}
        assert len(answers) == 1
    finally:
        assert running.stop() in (0, -signal.SIGTERM)

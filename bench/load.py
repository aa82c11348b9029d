"""Load test of `spinekb serve` on loopback: N concurrent clients, a fixed number of requests.

    python bench/load.py                                   # 2,000 POST /evaluate, 16 clients
    python bench/load.py --endpoint hook --requests 2000   # CDS Hooks order-sign calls
    python bench/load.py --requests 100000 --max-seconds 5400   # the soak: memory over 100k requests

It starts `spinekb serve` on a free 127.0.0.1 port, warms it up, then sends the example cases
(examples/cases, or for `hook` the examples/fhir Bundles as order-sign calls) round-robin from
`--clients` threads, each on its own keep-alive connection, until `--requests` answers came back
or `--max-seconds` passed: it always stops by itself, and talks to nothing but loopback.

Reported: requests/s, latency p50/p90/p99/max, errors, and every `/evaluate` answer checked
against `spinekb evaluate`'s record for the same case (`mismatches` must be 0: decisions under
load are the command line's). Memory: the RSS of the server's process tree sampled throughout;
`flat` compares the first tenth of the run with the last. `--json FILE` writes everything.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss(pid: int) -> int:
    import psutil

    try:
        process = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def _payloads(endpoint: str) -> tuple[str, list[bytes], list[dict | None]]:
    """The request path, the bodies, and for /evaluate the record each must get back."""
    from spinekb.bridge.batch import evaluate_sources
    from spinekb.cli.service import hook_request

    if endpoint == "evaluate":
        paths = sorted((ROOT / "examples" / "cases").glob("*.json"))
        expected = [o.to_json() for o in evaluate_sources([str(p) for p in paths])]
        return "/evaluate", [p.read_bytes() for p in paths], expected
    bundles = [json.loads(p.read_text()) for p in sorted((ROOT / "examples" / "fhir").glob("*.json"))]
    bodies = [json.dumps(hook_request(b, hook_instance=f"load-{i}")).encode() for i, b in enumerate(bundles)]
    return "/cds-services/spinekb-order-sign", bodies, [None] * len(bodies)


def run(endpoint: str, requests: int, clients: int, workers: int, max_seconds: float) -> dict:
    path, bodies, expected = _payloads(endpoint)
    port = _free_port()
    script = Path(sys.executable).with_name("spinekb")
    server = subprocess.Popen([str(script), "serve", "--port", str(port), "--workers", str(workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, server)
        # warm-up: every payload once, so the first samples are not the engines' start
        _drive(port, path, bodies, expected, len(bodies), min(clients, 8), 300, [])
        samples: list[tuple[float, int, int]] = []
        stop = threading.Event()
        done = [0]

        def sample() -> None:
            while not stop.is_set():
                samples.append((time.monotonic(), done[0], _rss(server.pid)))
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        latencies: list[float] = []
        outcome = _drive(port, path, bodies, expected, requests, clients, max_seconds, latencies, done)
        elapsed = time.monotonic() - started
        stop.set()
        sampler.join()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    memory = [rss for _, _, rss in samples if rss]
    tenth = max(1, len(memory) // 10)
    first, last = statistics.median(memory[:tenth]), statistics.median(memory[-tenth:])
    return {
        "endpoint": path, "requests": len(latencies), "clients": clients, "workers": workers,
        "seconds": round(elapsed, 1), "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1), "p90_ms": round(_percentile(latencies, 90) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 1), "max_ms": round(max(latencies) * 1000, 1),
        "errors": outcome["errors"], "mismatches": outcome["mismatches"], "checked": outcome["checked"],
        "rss_first_mb": round(first / 2**20, 1), "rss_last_mb": round(last / 2**20, 1),
        "rss_peak_mb": round(max(memory) / 2**20, 1), "rss_growth": round(last / first, 3),
        "flat": last / first < 1.10, "cpus": os.cpu_count(),
        "memory_samples": [(round(t - samples[0][0], 1), n, rss)
                           for t, n, rss in samples[:: max(1, len(samples) // 200)]],
    }


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("spinekb serve exited before answering")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("spinekb serve did not answer /health in 120 s")


def _drive(port: int, path: str, bodies: list[bytes], expected: list, total: int, clients: int,
           max_seconds: float, latencies: list[float], done: list[int] | None = None) -> dict:
    """Send ``total`` requests from ``clients`` threads (round-robin over ``bodies``)."""
    lock = threading.Lock()
    counter = [0]
    outcome = {"errors": 0, "mismatches": 0, "checked": 0}
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while time.monotonic() < deadline:
            with lock:
                if counter[0] >= total:
                    break
                index = counter[0]
                counter[0] += 1
            body, want = bodies[index % len(bodies)], expected[index % len(bodies)]
            sent = time.monotonic()
            try:
                connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                answer = connection.getresponse()
                data = answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                status, data = 0, b""
            took = time.monotonic() - sent
            with lock:
                latencies.append(took)
                if done is not None:
                    done[0] += 1
                if status != 200:
                    outcome["errors"] += 1
                elif want is not None:
                    outcome["checked"] += 1
                    if json.loads(data) != want:
                        outcome["mismatches"] += 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", choices=["evaluate", "hook"], default="evaluate")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=900,
                        help="stop sending after this long, whatever the count")
    parser.add_argument("--json", type=Path, help="write the full result (with memory samples) here")
    options = parser.parse_args()
    result = run(options.endpoint, options.requests, options.clients, options.workers, options.max_seconds)
    if options.json:
        options.json.write_text(json.dumps(result, indent=1))
    shown = {k: v for k, v in result.items() if k != "memory_samples"}
    print(json.dumps(shown, indent=1))
    if result["errors"] or result["mismatches"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

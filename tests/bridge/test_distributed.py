"""A batch on Dask distributed: the same bytes as a local run, in input order, from two worker
processes of a LocalCluster on this machine."""
from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from click.testing import CliRunner  # noqa: E402

from spinekb.bridge.batch import as_json_line, render_chunks  # noqa: E402
from spinekb.bridge.distributed import ClusterError, check_workers, render_on_cluster  # noqa: E402
from spinekb.cli.main import main  # noqa: E402

GENERATOR = Path(__file__).parents[2] / "bench" / "generate.py"


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and two single-threaded worker processes on loopback."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as local:
        yield local


@pytest.fixture(scope="module")
def lines() -> list[str]:
    """60 generated cases as JSON Lines, two of them broken (error records keep their place)."""
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    found = [json.dumps(case) for case in module.generate(60, seed=11)]
    found[5] = "{broken"
    found[41] = json.dumps({"request": {"id": "no-patient"}})
    return found


def _texts(chunks) -> list[str]:
    return [rendered.text for chunk in chunks for rendered in chunk]


def test_cluster_output_is_the_local_output_in_input_order(cluster, lines):
    """Partitions of 7 cases decided by two workers give exactly the local run's records, in order."""
    stdin = "\n".join(lines) + "\n"
    local = _texts(render_chunks(["-"], as_json_line, 1, io.StringIO(stdin), 7))
    remote = _texts(render_on_cluster(cluster.scheduler_address, ["-"], as_json_line, io.StringIO(stdin), 7))
    assert remote == local
    assert len(remote) == len(lines)
    assert json.loads(remote[5])["source"] == "<stdin>:6" and "error" in json.loads(remote[41])
    assert [json.loads(r).get("case_id") for r in remote][:3] == [json.loads(x)["request"]["id"] for x in lines[:3]]


def test_both_workers_decide(cluster, lines):
    """Both worker processes keep an engine: each has decided partitions of the batch."""
    stdin = "\n".join(lines) + "\n"
    _texts(render_on_cluster(cluster.scheduler_address, ["-"], as_json_line, io.StringIO(stdin), 5))
    with distributed.Client(cluster.scheduler_address) as client:
        engines = client.run(lambda: len(__import__("spinekb.bridge.distributed", fromlist=["_ENGINES"])._ENGINES))
    assert sorted(engines.values()) == [1, 1]


def test_evaluate_cluster_option_writes_the_same_bytes(cluster, lines):
    """`spinekb evaluate - --format jsonl --cluster ADDRESS` prints what the local command prints."""
    stdin = "\n".join(lines) + "\n"
    args = ["evaluate", "-", "--format", "jsonl", "--no-kinds", "--chunk-size", "9"]
    local = CliRunner().invoke(main, [*args, "--jobs", "1"], input=stdin)
    remote = CliRunner().invoke(main, [*args, "--cluster", cluster.scheduler_address], input=stdin)
    assert remote.exit_code == local.exit_code == 2  # two inputs were rejected
    assert remote.stdout == local.stdout
    assert remote.stderr == local.stderr


def test_a_worker_under_another_kb_is_refused_before_any_input():
    """A worker that reports another KB version stops the batch with one line."""
    class Client:
        def run(self, function, *args):
            return {"tcp://10.0.0.2:1234": "spine-imaging-V1.0.2023+kb.000000000000"}

        def nthreads(self):
            return {"tcp://10.0.0.2:1234": 1}

    with pytest.raises(ClusterError, match="another KB"):
        check_workers(Client())


def test_an_unreachable_scheduler_is_a_cluster_error():
    """No scheduler at the address: ClusterError, with the address."""
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        list(render_on_cluster("tcp://127.0.0.1:9", ["-"], as_json_line, io.StringIO("{}\n"), timeout=2))


def test_a_cluster_error_is_one_error_line(monkeypatch):
    """`spinekb evaluate --cluster` that cannot use the cluster: exit 2 and one `error:` line."""
    def refuse(*args, **kwargs):
        raise ClusterError("cannot reach the Dask scheduler at tcp://127.0.0.1:9: timed out")
        yield  # pragma: no cover

    monkeypatch.setattr("spinekb.cli.evaluate_cmd.render_on_cluster", refuse)
    result = CliRunner().invoke(main, ["evaluate", "-", "--format", "jsonl", "--cluster", "tcp://127.0.0.1:9"],
                                input="{}\n")
    assert result.exit_code == 2
    assert result.stderr == "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9: timed out\n"

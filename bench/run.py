"""Benchmark spinekb end to end and print the figures (also written to bench/out/figures.json).

    python bench/run.py            # 10k and 100k cases, explain latency, cold start (make bench)
    python bench/run.py --quick    # a 1k-case smoke run

What is measured, each as the user would run it:
  (a) throughput: ``spinekb evaluate - --format jsonl < N.jsonl > out.jsonl`` in ONE subprocess
      (read JSON Lines, validate, decide, write JSON Lines), cases per second of wall time;
  (b) the same at 100,000 cases, and the child's peak memory (max RSS, from ``os.wait4`` on
      that child alone) at 10k vs 100k: it must stay flat (ratio <= FLAT_RATIO);
  (c) explain latency for one case: in-process through the Python API (the engine built once,
      then one decision + explanation + text rendering per call) and as ``spinekb explain``;
  (d) cold start: ``spinekb evaluate CASE`` on one case, subprocess wall time, median of 5.
  (e) the reference probe (``../shared/bench/kb_scale_probe.py``, or $SPINEKB_REFERENCE_PROBE):
      clingo alone deciding a 321-rule guideline-shaped program in one process on one core, run
      right before each 10k run; the 10k figure is reported as a ratio to it, pair by pair
      (these machines are shared: a ratio measured side by side holds, an absolute figure moves 2x);
  (f) equivalence: the 10k run's output, byte for byte, against the straightforward engine (the
      whole KB as written, one grounding per case, every case fact): bench/equivalence.py.
Each throughput run is repeated with ``--jobs`` (worker processes) when the machine has more
than one core. Input files are generated once per size and seed by bench/generate.py and reused.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import threading
import sys
import time
from dataclasses import asdict, dataclass
from functools import cache
from itertools import islice
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
EXPLAIN_CASE = ROOT / "examples" / "cases" / "denied-no-trial.json"
EXPLAIN_STUDY = "72148"
TARGET_CASES_PER_SECOND = 5000
TARGET_PROBE_RATIO = 0.8
FLAT_RATIO = 1.25
PROBE_ENV = "SPINEKB_REFERENCE_PROBE"

sys.path.insert(0, str(BENCH))
from generate import DEFAULT_SEED, write_jsonl  # noqa: E402
from equivalence import compare_with_straightforward  # noqa: E402


def spinekb_command() -> str:
    """The console command of the environment running this script (the project's venv)."""
    beside = Path(sys.executable).parent / "spinekb"
    found = str(beside) if beside.exists() else shutil.which("spinekb")
    if not found:
        sys.exit("error: the spinekb command is not installed (run `make env`)")
    return found


@dataclass
class ChildRun:
    """One subprocess: wall time, exit code, and peak resident memory of its process tree."""

    seconds: float
    returncode: int
    max_rss_mb: float      # the largest single process of the tree (the child or a worker)
    total_rss_mb: float = 0.0  # the largest sum over the tree at one moment


def _tree_rss_kb(root: int) -> list[int]:
    """VmRSS (KiB) of ``root`` and every process below it (workers of a fork server included)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        parents[int(entry)] = int(fields.get("PPid", "0").strip() or 0)
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0] or 0)
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return [rss.get(pid, 0) for pid in tree]


class _TreeSampler(threading.Thread):
    """Samples the memory of a process tree every 0.5 s until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.single_kb, self.total_kb = root, 0, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            sizes = _tree_rss_kb(self.root)
            if sizes:
                self.single_kb = max(self.single_kb, max(sizes))
                self.total_kb = max(self.total_kb, sum(sizes))


def run_child(args: list[str], stdin: Path | None = None, stdout: Path | None = None) -> ChildRun:
    """Run ``args`` once; stdin/stdout redirected to files (or /dev/null)."""
    with open(stdin or os.devnull, "rb") as fin, open(stdout or os.devnull, "wb") as fout:
        start = time.perf_counter()
        child = subprocess.Popen(args, stdin=fin, stdout=fout, stderr=subprocess.PIPE, cwd=ROOT)
        sampler = _TreeSampler(child.pid)
        sampler.start()
        # wait4 reports this child's own usage (getrusage(RUSAGE_CHILDREN) would be the
        # maximum over every child so far, hiding the 10k figure behind the 100k one)
        stderr = child.stderr.read() if child.stderr else b""
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        sampler.stopped.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0,):
        sys.stderr.write(stderr.decode(errors="replace")[-2000:])
    single = max(usage.ru_maxrss, sampler.single_kb)  # Linux: KiB
    return ChildRun(seconds, child.returncode, single / 1024, max(single, sampler.total_kb) / 1024)


def cases_file(n: int, seed: int) -> Path:
    """The JSON Lines file of ``n`` generated cases, generated on first use."""
    path = OUT / f"cases-{n}-seed{seed}.jsonl"
    if not path.exists():
        start = time.perf_counter()
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            write_jsonl(n, out, seed)
        partial.rename(path)
        print(f"generated {n:,} cases in {time.perf_counter() - start:.1f} s -> {path.relative_to(ROOT)}")
    return path


@dataclass
class Throughput:
    """One batch run of ``spinekb evaluate - --format jsonl``."""

    cases: int
    jobs: int
    seconds: float
    cases_per_second: float
    max_rss_mb: float
    total_rss_mb: float
    decisions: dict[str, int]
    errors: int


def throughput(command: str, n: int, seed: int, jobs: int) -> Throughput:
    """Evaluate ``n`` cases from a JSON Lines file in one subprocess call."""
    source = cases_file(n, seed)
    target = OUT / f"decisions-{n}-j{jobs}.jsonl"
    args = [command, "evaluate", "-", "--format", "jsonl", "--jobs", str(jobs), *decisions_only(command)]
    run = run_child(args, stdin=source, stdout=target)
    decisions: dict[str, int] = {}
    errors = records = 0
    with target.open(encoding="utf-8") as lines:
        for line in lines:
            records += 1
            record = json.loads(line)
            if "error" in record:
                errors += 1
                continue
            for study in record["studies"]:
                decisions[study["decision"]] = decisions.get(study["decision"], 0) + 1
    if run.returncode != 0 or records != n:
        sys.exit(f"error: evaluate exited {run.returncode} with {records} records for {n} cases")
    return Throughput(n, jobs, run.seconds, n / run.seconds, run.max_rss_mb, run.total_rss_mb, decisions, errors)


@cache
def decisions_only(command: str) -> tuple[str, ...]:
    """``--no-kinds`` where ``spinekb evaluate`` has it: the throughput figures are for deciding
    and explaining (the what-if search behind a denial's kind grounds once per denied study and
    is measured apart, see :func:`kinds_cost`)."""
    found = subprocess.run([command, "evaluate", "--help"], capture_output=True, text=True).stdout
    return ("--no-kinds",) if "--no-kinds" in found else ()


def kinds_cost(command: str, seed: int, n: int = 200) -> dict[str, float] | None:
    """``spinekb evaluate`` on ``n`` cases with and without denial kinds (one process, jobs=1)."""
    if not decisions_only(command):
        return None
    source = OUT / f"cases-{n}-seed{seed}.jsonl"
    if not source.exists():
        with cases_file(1_000, seed).open(encoding="utf-8") as lines, source.open("w", encoding="utf-8") as out:
            out.writelines(islice(lines, n))
    base = [command, "evaluate", "-", "--format", "jsonl", "--jobs", "1"]
    with_kinds = run_child(base, stdin=source)
    without = run_child([*base, "--no-kinds"], stdin=source)
    return {"cases": n, "with_kinds_cases_per_second": n / with_kinds.seconds,
            "without_kinds_cases_per_second": n / without.seconds}


def median_child_seconds(args: list[str], repeat: int) -> tuple[float, list[float]]:
    """Median wall time of ``repeat`` runs of a command that must succeed."""
    times = []
    for _ in range(repeat):
        run = run_child(args)
        if run.returncode != 0:
            sys.exit(f"error: {' '.join(args)} exited {run.returncode}")
        times.append(run.seconds)
    return statistics.median(times), times


def reference_probe() -> Path | None:
    """The reference probe: $SPINEKB_REFERENCE_PROBE, else ../shared/bench/kb_scale_probe.py beside
    the repository; ``None`` if neither exists."""
    named = os.environ.get(PROBE_ENV)
    path = Path(named) if named else ROOT.parent / "shared" / "bench" / "kb_scale_probe.py"
    return path if path.is_file() else None


def run_probe(path: Path) -> dict[str, float] | None:
    """Run the probe once (in its own folder, with this Python); its figures in cases/s."""
    done = subprocess.run([sys.executable, str(path)], cwd=path.parent, capture_output=True, text=True)
    figures: dict[str, float] = {}
    for key, pattern in (("rules", r"^rules:\s*(\d+)"), ("validate_only", r"^validate only\s*:\s*(\d+)"),
                         ("per_case", r"^per-case Control:\s*(\d+)"), ("batched", r"^batched \(chunk \d+\):\s*(\d+)")):
        found = re.search(pattern, done.stdout, re.MULTILINE)
        if found:
            figures[key] = float(found[1])
    if done.returncode != 0 or "batched" not in figures:
        print(f"reference probe failed (exit {done.returncode}): {done.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return figures


def explain_in_process(repeat: int) -> dict[str, float]:
    """Explain latency through the Python API: engine set-up once, then per explanation."""
    from spinekb.bridge.loading import load_case
    from spinekb.explain import explain_study, render, tracing_engine

    start = time.perf_counter()
    engine = tracing_engine()
    setup = time.perf_counter() - start
    case = load_case(EXPLAIN_CASE)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        text = render(explain_study(engine, case, EXPLAIN_STUDY), "text")
        times.append(time.perf_counter() - start)
    assert text.strip()
    found = {"engine_setup_ms": setup * 1000, "first_ms": times[0] * 1000,
             "median_ms": statistics.median(times) * 1000,
             "min_ms": min(times) * 1000, "max_ms": max(times) * 1000, "runs": repeat}
    try:  # the what-if search (issue 9), where this version has it
        from spinekb.bridge.whatif import WhatIfSolver
    except ImportError:
        return found
    solver, decided = WhatIfSolver(), engine.evaluate_one(case)
    searches = []
    for _ in range(max(3, repeat // 4)):
        start = time.perf_counter()
        solver.solve(case, decided, EXPLAIN_STUDY)
        searches.append(time.perf_counter() - start)
    found["whatif_median_ms"] = statistics.median(searches) * 1000
    return found


def environment(command: str) -> dict[str, str]:
    """What the figures were measured on."""
    import clingo

    from spinekb.kb import kb_version

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {"machine": platform.machine(), "cpus": str(os.cpu_count()), "python": platform.python_version(),
            "clingo": clingo.__version__, "kb_version": kb_version(), "commit": commit, "command": command}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 1k-case smoke run (no 100k run)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="also measure with this many worker processes (default: the CPU count; 1: skip)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of the headline size at --jobs, each beside a probe run (default: 3; quick: 1)")
    parser.add_argument("--equivalence-sample", type=int, default=None, metavar="N",
                        help="compare only the first N cases with the straightforward engine (default: all)")
    parser.add_argument("--no-equivalence", action="store_true",
                        help="skip the comparison with the straightforward engine")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    command = spinekb_command()
    sizes = [1_000] if args.quick else [10_000, 100_000]
    repeat = 3 if args.quick else 5
    headline, top = sizes[0], max(1, args.jobs)
    probe = reference_probe()
    if probe is None:
        print(f"reference probe not found (../shared/bench/kb_scale_probe.py beside the repository, or "
              f"${PROBE_ENV}): skipped, no ratio", flush=True)

    runs: list[Throughput] = []
    pairs: list[dict] = []
    for _ in range(args.repeat or (1 if args.quick else 3)):
        probe_figures = None
        if probe is not None:
            print(f"reference probe {probe.name} ...", flush=True)
            probe_figures = run_probe(probe)
        print(f"evaluating {headline:,} cases (jobs={top}) ...", flush=True)
        run = throughput(command, headline, args.seed, top)
        runs.append(run)
        ratio = run.cases_per_second / probe_figures["batched"] if probe_figures else None
        pairs.append({"probe": probe_figures, "cases_per_second": run.cases_per_second, "ratio": ratio})
    for jobs in sorted({1, top}):
        for n in sizes:
            if (n, jobs) != (headline, top):
                print(f"evaluating {n:,} cases (jobs={jobs}) ...", flush=True)
                runs.append(throughput(command, n, args.seed, jobs))

    equivalence = None
    if not args.no_equivalence:
        print("equivalence with the straightforward engine ...", flush=True)
        equivalence = compare_with_straightforward(cases_file(headline, args.seed),
                                                   OUT / f"decisions-{headline}-j{top}.jsonl",
                                                   sample=args.equivalence_sample, jobs=top)

    kinds = None
    if not args.quick:
        print("denial kinds (what-if search per denied study) ...", flush=True)
        kinds = kinds_cost(command, args.seed)

    print("explain latency ...", flush=True)
    explain_api = explain_in_process(20 if not args.quick else 5)
    explain_cli, _ = median_child_seconds(
        [command, "explain", str(EXPLAIN_CASE), "--study", EXPLAIN_STUDY], repeat)
    print("cold start ...", flush=True)
    cold, cold_runs = median_child_seconds(
        [command, "evaluate", str(EXPLAIN_CASE), "--format", "jsonl"], repeat)
    version, _ = median_child_seconds([command, "--version"], repeat)

    flat = {}
    for jobs in sorted({r.jobs for r in runs}):
        by_size = {r.cases: r for r in reversed(runs) if r.jobs == jobs}  # the first run of each size
        if len(by_size) == 2:
            small, large = by_size[min(by_size)], by_size[max(by_size)]
            ratio = large.max_rss_mb / small.max_rss_mb
            flat[f"jobs={jobs}"] = {"rss_small_mb": small.max_rss_mb, "rss_large_mb": large.max_rss_mb,
                                    "ratio": ratio, "flat": ratio <= FLAT_RATIO}

    ratios = [p["ratio"] for p in pairs if p["ratio"] is not None]
    probe_rates = [p["probe"]["batched"] for p in pairs if p["probe"]]
    rates = [p["cases_per_second"] for p in pairs]
    figures = {
        "environment": environment(command),
        "throughput": [asdict(r) for r in runs],
        "headline": {"cases": headline, "jobs": top, "pairs": pairs,
                     "best_cases_per_second": max(rates), "median_cases_per_second": statistics.median(rates),
                     "probe": str(probe) if probe else None,
                     "probe_median_cases_per_second": statistics.median(probe_rates) if probe_rates else None,
                     "ratio_median": statistics.median(ratios) if ratios else None,
                     "ratio_best": max(rates) / max(probe_rates) if probe_rates else None},
        "memory_flat": flat,
        "equivalence": equivalence,
        "denial_kinds": kinds,
        "explain": {"case": str(EXPLAIN_CASE.relative_to(ROOT)), "study": EXPLAIN_STUDY,
                    "in_process": explain_api, "subprocess_median_ms": explain_cli * 1000},
        "cold_start": {"evaluate_one_case_median_ms": cold * 1000,
                       "runs_ms": [t * 1000 for t in cold_runs],
                       "spinekb_version_median_ms": version * 1000},
        "target_cases_per_second": TARGET_CASES_PER_SECOND,
        "target_probe_ratio": TARGET_PROBE_RATIO,
    }
    path = OUT / "figures.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print_table(figures)
    print(f"\nfigures: {path.relative_to(ROOT)}")
    if equivalence is not None and not equivalence["identical"]:
        sys.exit("error: the engine's records differ from the straightforward engine's (see above)")


def print_table(figures: dict) -> None:
    """The figures as a small table."""
    env = figures["environment"]
    print(f"\nspinekb benchmark  ({env['cpus']} CPUs, Python {env['python']}, clingo {env['clingo']}, "
          f"commit {env['commit']}, {env['kb_version']})")
    print(f"{'run':<34}{'wall s':>9}{'cases/s':>10}{'RSS MB (max 1)':>15}{'(all)':>8}  decisions")
    for r in figures["throughput"]:
        label = f"evaluate {r['cases']:,} cases, jobs={r['jobs']}"
        decided = ", ".join(f"{k} {v:,}" for k, v in sorted(r["decisions"].items()))
        mark = "" if r["cases_per_second"] >= figures["target_cases_per_second"] else " *"
        print(f"{label:<34}{r['seconds']:>9.2f}{r['cases_per_second']:>10,.0f}{r['max_rss_mb']:>15.1f}"
              f"{r['total_rss_mb']:>8.0f}"
              f"  {decided}; errors {r['errors']}{mark}")
    h = figures["headline"]
    print(f"\n{h['cases']:,} cases, jobs={h['jobs']}, {len(h['pairs'])} run(s): best {h['best_cases_per_second']:,.0f} "
          f"cases/s, median {h['median_cases_per_second']:,.0f} (target {figures['target_cases_per_second']:,})")
    if h["probe_median_cases_per_second"]:
        ratios = " ".join(f"{p['ratio']:.2f}" for p in h["pairs"] if p["ratio"] is not None)
        print(f"reference probe {Path(h['probe']).name} (one core, in-process, batched): median "
              f"{h['probe_median_cases_per_second']:,.0f} cases/s")
        print(f"ratio to the probe, run by run: {ratios}; median {h['ratio_median']:.2f}, best/best "
              f"{h['ratio_best']:.2f} (target {figures['target_probe_ratio']})")
    else:
        print("reference probe: not run (no ratio)")
    for jobs, m in figures["memory_flat"].items():
        print(f"memory {jobs}: {m['rss_small_mb']:.1f} MB -> {m['rss_large_mb']:.1f} MB "
              f"(x{m['ratio']:.2f}): {'flat' if m['flat'] else 'NOT flat'}")
    q = figures["equivalence"]
    if q is not None:
        verdict = "identical" if q["identical"] else f"DIFFERENT (first at line {q['first_difference']})"
        print(f"equivalence with the straightforward engine (whole KB, one grounding per case): {q['cases']:,} "
              f"cases, {verdict} ({q['seconds']:.0f} s)")
    k = figures.get("denial_kinds")
    if k:
        print(f"spinekb evaluate, {k['cases']} cases, jobs=1: {k['without_kinds_cases_per_second']:,.0f} cases/s with "
              f"--no-kinds (the runs above), {k['with_kinds_cases_per_second']:,.1f} cases/s with denial kinds "
              "(the default: a what-if search per denied study)")
    e = figures["explain"]
    print(f"explain {e['case']} --study {e['study']}: in-process median {e['in_process']['median_ms']:.1f} ms "
          f"(engine set-up {e['in_process']['engine_setup_ms']:.0f} ms, first call "
          f"{e['in_process']['first_ms']:.0f} ms); "
          f"subprocess median {e['subprocess_median_ms']:.0f} ms")
    if "whatif_median_ms" in e["in_process"]:
        print(f"what-if search for the same denial: in-process median {e['in_process']['whatif_median_ms']:.0f} ms")
    c = figures["cold_start"]
    print(f"cold start, spinekb evaluate on one case: median {c['evaluate_one_case_median_ms']:.0f} ms "
          f"(spinekb --version: {c['spinekb_version_median_ms']:.0f} ms)")
    if any(r["cases_per_second"] < figures["target_cases_per_second"] for r in figures["throughput"]):
        print(f"* below the target of {figures['target_cases_per_second']:,} cases/s (the ratio to the probe is "
              "the figure that counts on a shared machine)")


if __name__ == "__main__":
    main()

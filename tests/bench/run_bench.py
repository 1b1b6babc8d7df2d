"""Time casectl on a large synthetic caseload and print a markdown table.

    .venv/bin/python tests/bench/run_bench.py [--cases 10000] [--runs 5]

Generates the caseload with `casectl demo generate` in a temporary folder, then runs each
command several times as a separate process and reports the median wall time and the peak
memory (the largest resident set of the process and any worker it started, from wait4).
Not a test: pytest does not collect it (its name does not start with test_), and it asserts
nothing; it prints the targets beside the numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

CASECTL = Path(sys.executable).with_name("casectl")


def run(args: Sequence[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run casectl once: (wall seconds, cpu seconds, peak RSS in KB, stdout).

    The output stays in a file until asked for: Linux counts the parent's resident set at the
    fork into a child's peak (ru_maxrss survives exec), so this process keeps small, or every
    command after a large one would seem to use as much memory as this script holds.
    """
    return _run(args, env, keep_output=True)


def _run(
    args: Sequence[str], env: dict[str, str], *, keep_output: bool
) -> tuple[float, float, int, str]:
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen([str(CASECTL), *args], stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 3):
            raise SystemExit(f"casectl {' '.join(args)} failed ({proc.returncode}):\n{stderr}")
        out.seek(0)
        if keep_output:
            text = out.read().decode()
        else:  # only its line count, a chunk at a time
            text = "\n" * sum(chunk.count(b"\n") for chunk in iter(lambda: out.read(1 << 20), b""))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, text


def measure(
    label: str,
    args: Sequence[str],
    env: dict[str, str],
    runs: int,
    before: Callable[[], None] | None = None,
) -> dict[str, object]:
    walls, cpus, peaks = [], [], []
    output = ""
    for _ in range(runs):
        if before:
            before()
        wall, cpu, peak, output = _run(args, env, keep_output=False)
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
    lines = len(output.splitlines())
    print(f"  {label}: median {statistics.median(walls):.3f} s", file=sys.stderr)
    return {
        "label": label,
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "cpu": statistics.median(cpus),
        "peak_mb": max(peaks) / 1024,
        "lines": lines,
    }


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def effective_cores() -> float:
    """How many cores two CPU-bound processes get right now (2.0 on an idle 2-core machine)."""
    from concurrent.futures import ProcessPoolExecutor

    n = 5_000_000
    start = time.perf_counter()
    _burn(n)
    one = time.perf_counter() - start
    with ProcessPoolExecutor(2) as pool:
        start = time.perf_counter()
        list(pool.map(_burn, [n, n]))
        two = time.perf_counter() - start
    return 2 * one / two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep", type=Path, help="Use (and keep) this folder instead of a temp one."
    )
    options = parser.parse_args()

    work = options.keep or Path(tempfile.mkdtemp(prefix="casectl-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data, cache = work / "cases", work / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECTL_")}
    # An installed casectl has its bytecode compiled; keep it out of the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(PYTHONPYCACHEPREFIX=str(work / "pycache"), CASECTL_CACHE_DIR=str(cache))
    env["CASECTL_USER"] = "Bench"
    cores_before = effective_cores()
    try:
        run(["--help"], env)  # compile the bytecode once
        if not data.exists():
            print(f"generating {options.cases} cases in {data} …", file=sys.stderr)
            started = time.perf_counter()
            run(
                [
                    "demo",
                    "generate",
                    str(data),
                    "--cases",
                    str(options.cases),
                    "--seed",
                    str(options.seed),
                ],
                env,
            )
            generated = time.perf_counter() - started
            time.sleep(2.5)  # files younger than 2 s are re-read by design; let them age
        else:
            generated = float("nan")
        d = ["--data-dir", str(data)]
        listed = run(
            [*d, "list", "--status", "open", "--stage", "follow-up", "--format", "ids"], env
        )
        target = listed[3].split()[0]

        def no_index() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        today = dt.date.today().isoformat()
        follow_up = [*d, "follow-up", target, "--mode", "phone", "--with", "client",
                     "--summary", "bench contact", "--date", today]  # fmt: skip
        results = [
            (measure("casectl --help", ["--help"], env, options.runs), 0.2),
            (measure("review, cold (no index)", [*d, "review"], env, options.runs, no_index), 5.0),
            (measure("review, warm", [*d, "review"], env, options.runs), 0.25),
            (measure("review --all --format json, warm", [*d, "review", "--all", "--format", "json"], env, options.runs), None),
            (measure("list --format json, warm", [*d, "list", "--format", "json"], env, options.runs), None),
            (measure(f"show {target}", [*d, "show", target], env, options.runs), None),
            (measure(f"follow-up {target} (one stage write)", follow_up, env, options.runs), 0.3),
            (measure("review, warm, just after that write", [*d, "review"], env, 1), None),
        ]  # fmt: skip
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()
    cores_after = effective_cores()
    print(
        f"\n{options.cases} cases (generated in {generated:.1f} s), {options.runs} runs each; "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"cores free for two processes {cores_before:.2f} before and {cores_after:.2f} after; "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}\n"
    )
    print("| command | median s | min s | max s | cpu s | peak MB | lines out | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r, limit in results:
        goal = (
            ""
            if limit is None
            else f"≤ {limit} s, ≤ 200 MB "
            + (
                "✓" if r["median"] <= limit and r["peak_mb"] <= 200 else "✗"  # type: ignore[operator]
            )
        )
        print(
            f"| {r['label']} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | {r['cpu']:.3f} "
            f"| {r['peak_mb']:.0f} | {r['lines']} | {goal} |"
        )


if __name__ == "__main__":
    main()

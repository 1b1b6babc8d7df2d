"""The suite's own rules: a red test says something about casectl, never about how busy the
machine was. No property has a deadline, and no assertion reads a clock; speed is measured by
tests/bench/run_bench.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, settings

TESTS = Path(__file__).parent
CLOCKS = re.compile(r"\b(perf_counter|monotonic|process_time|elapsed|time\.time)\b")


def test_no_property_fails_for_being_slow() -> None:
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


def test_no_assertion_reads_a_clock() -> None:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        if "bench" in path.parts or path.name == Path(__file__).name:
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if line.lstrip().startswith("assert") and CLOCKS.search(line):
                found.append(f"{path.relative_to(TESTS)}:{number}: {line.strip()}")
    assert found == [], "speed belongs in tests/bench, not in an assertion:\n" + "\n".join(found)

"""The long fuzz run: the property and hostile-input tests with many more examples, round after
round with fresh seeds, until the time is up. Outside the default test run (not collected).

    .venv/bin/python tests/fuzz/run_fuzz.py                 # 30 minutes, 2,000 examples a property
    .venv/bin/python tests/fuzz/run_fuzz.py --minutes 480 --examples 20000

Each round runs tests/test_properties.py with CASECTL_FUZZ_EXAMPLES set and a new
--hypothesis-seed, then the hostile corpus once. A failure stops the run: hypothesis prints the
smallest failing example and how to reproduce it (the seed is printed before each round), and
keeps it in .hypothesis/ so the next default test run tries it again first.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30, help="stop starting rounds after this")
    parser.add_argument("--examples", type=int, default=2000, help="examples per property a round")
    args = parser.parse_args()
    env = {**os.environ, "CASECTL_FUZZ_EXAMPLES": str(args.examples)}
    stop = time.monotonic() + args.minutes * 60
    rounds = 0
    base = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    while True:
        seed = random.randrange(2**32)
        rounds += 1
        print(f"fuzz round {rounds}: --hypothesis-seed={seed}", flush=True)
        tests = ["tests/test_properties.py", f"--hypothesis-seed={seed}"]
        if rounds == 1:
            tests.append("tests/test_hostile.py")
        done = subprocess.run([*base, *tests], cwd=ROOT, env=env, check=False)
        if done.returncode != 0:
            print(f"fuzz: round {rounds} failed (seed {seed}); see above.", flush=True)
            return done.returncode
        if time.monotonic() >= stop:
            print(f"fuzz: {rounds} round(s) passed.", flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time the engine alone: microseconds per assessment, for each worked case.

    python -m bench.engine [RUNS]

The target in issue 5 is under 20 microseconds per assessment. This is a
benchmark, not a test: the figure depends on the machine.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from pathlib import Path

from symptomcheck.rules import loader, vignettes
from symptomcheck.rules.engine import assess

ROOT = Path(__file__).resolve().parent.parent


def main(runs: int = 5_000) -> None:
    rules = loader.load(ROOT / "rules.yaml")
    files = [
        ROOT.parent / "shared" / "clinical" / "vignettes.yaml",
        *sorted((ROOT / "tests" / "vignettes").glob("*.yaml")),
    ]
    cases = [case for path in files if path.exists() for case in vignettes.load(path)]
    per_case = []
    for case in cases:
        best = min(timeit.repeat(lambda case=case: assess(rules, case.answers), number=runs, repeat=5))
        per_case.append(best / runs * 1e6)
    print(f"{len(rules.rules)} rules, {len(cases)} cases, {runs} runs each (best of 5)")
    print(f"median {statistics.median(per_case):.1f} us, max {max(per_case):.1f} us per assessment")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000)

"""Suite ``fuzz``: the API fuzzing of ``tests/quality/test_fuzz.py``, run deeper than CI runs it.

The same test file (the same document, world, hooks and checks) with many more examples per operation
(``--examples``, 1000 by default against CI's 25) and any seed (``--seed``; CI keeps one fixed). Each
operation is one pytest item; the report counts the operations that passed every check against the
operations fuzzed (target: all of them), and notes the run time and the operations that failed.

The database is the tests' own: ``LEARNING_TEST_DATABASE_URL`` or an embedded throwaway PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from bench.harness import ROOT, Result, SuiteReport, publish, suite_command

SUITE = "fuzz"
TEST_FILE = ROOT / "tests" / "quality" / "test_fuzz.py"
FUZZ_TEST = "test_operation_conforms_to_the_document["


class _Outcomes:
    """A pytest plugin that records each fuzzed operation's outcome (its label is only in the report's
    head line: schemathesis items share one node id)."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        line = report.head_line or ""
        if not line.startswith(FUZZ_TEST) or (report.when != "call" and report.passed):
            return
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        if report.when != "call":
            outcome = "error"
        self.found[line.removeprefix(FUZZ_TEST).removesuffix("]")] = outcome


def run_fuzzing(examples: int, seed: int | None, pytest_args: Sequence[str]) -> tuple[int, dict[str, str], float]:
    # Read when the test module is imported, so set before pytest collects it.
    os.environ["LEARNING_FUZZ_EXAMPLES"] = str(examples)
    if seed is not None:
        os.environ["LEARNING_FUZZ_SEED"] = str(seed)
    recorder = _Outcomes()
    # One process: the recorder plugin reads the reports here (one test file gains nothing from workers).
    args = [str(TEST_FILE), "-q", "-n", "0", "-p", "no:cacheprovider", "--rootdir", str(ROOT), *pytest_args]
    print(f"  pytest {' '.join(args)} (LEARNING_FUZZ_EXAMPLES={examples})", flush=True)
    started = time.monotonic()
    status = int(pytest.main(args, plugins=[recorder]))
    return status, recorder.found, time.monotonic() - started


def build_report(
    found: dict[str, str], elapsed: float, status: int, args: argparse.Namespace, argv: list[str]
) -> SuiteReport:
    counts = Counter(found.values())
    passing = counts["passed"] + counts["xfailed"]  # a strict xfail is a known bug, reported, still failing
    command = suite_command(SUITE, argv)
    seed = args.seed if args.seed is not None else "CI's"
    notes = [
        f"{args.examples} examples per operation (CI runs 25), seed {seed}: {len(found)} operations in "
        f"{elapsed:.0f} s ({elapsed / max(1, len(found)):.1f} s per operation); pytest exit status {status}.",
        "Outcomes: " + ", ".join(f"{outcome} {count}" for outcome, count in sorted(counts.items())) + ".",
    ]
    notes += [f"{outcome}: {label}" for label, outcome in sorted(found.items()) if outcome not in {"passed", "xfailed"}]
    result = Result(
        name="operations passing every check",
        project=passing,
        baseline=len(found),
        unit="operations",
        command=command,
        target=1.0,
    )
    return SuiteReport(
        suite=SUITE,
        title="API fuzzing (schemathesis) with many examples",
        project_label="operations passing",
        baseline_label="operations fuzzed",
        results=[result],
        notes=notes,
        command=command,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=1000, help="Hypothesis examples per operation")
    parser.add_argument("--seed", type=int, default=None, help="another seed than CI's fixed one")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --: -- -k media")
    argv = sys.argv[1:] if argv is None else list(argv)
    args: Any = parser.parse_args(argv)

    status, found, elapsed = run_fuzzing(args.examples, args.seed, args.pytest_args)
    if not found:  # collection or set-up failed: nothing to report
        print("no operation was fuzzed", file=sys.stderr)
        return status or 1
    publish(build_report(found, elapsed, status, args, argv))
    return status


if __name__ == "__main__":
    sys.exit(main())

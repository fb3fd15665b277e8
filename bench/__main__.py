"""``python -m bench [suite ...]``: run the suites (default: all of ``bench.SUITES``), then print each ratio
next to its target. Exit status 1 when a suite failed or a ratio missed its target."""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench import SUITES
from bench.harness import ROOT, load_report, print_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("suites", nargs="*", metavar="suite", help=f"one of: {', '.join(SUITES)}")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(SUITES))
        return 0
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}")
    suites = args.suites or list(SUITES)

    failed = []
    for suite in suites:
        print(f"== {suite}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{suite}"], cwd=ROOT, check=False).returncode:
            failed.append(suite)

    reports = [r for s in suites if s not in failed and (r := load_report(s)) is not None]
    print("\n== summary (ratio = project / baseline)")
    print_table(reports)
    missed = [f"{rep.suite}: {r.name}" for rep in reports for r in rep.results if r.passed is False]
    for suite in failed:
        print(f"FAILED suite: {suite}")
    for name in missed:
        print(f"MISSED target: {name}")
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())

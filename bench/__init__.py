"""Benchmarks of ``learning``: ``bench/run [suite ...]`` runs ``python -m bench.<suite>`` for each suite.

Every suite measures the project and a baseline in the same run (the machine is shared and noisy) and
reports their ratio; ``bench.harness`` holds the shared pieces and rewrites ``docs/benchmarks.md``.
"""

from __future__ import annotations

# The registry: a suite is a module ``bench/<name>.py`` with a ``main()``; adding one is adding its name here.
SUITES: tuple[str, ...] = (
    "servers", "catalog", "media", "uploads", "progress", "feeds", "load", "limits", "startup", "growth", "scaleout",
    "lighthouse", "reminders", "resets", "attestation", "podsync",
)  # fmt: skip

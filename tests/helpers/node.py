"""Real clients written for node (Podcast Index's podcast-partytime), installed on first use.

``tests/js/package.json`` and its lock pin them; the first test that needs one runs ``npm ci`` there (under a
file lock: parallel workers install once). Without node or npm the test fails, naming the package to install:
never a silent skip.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

JS = Path(__file__).resolve().parents[1] / "js"
NODE_MISSING = (
    "These tests run Podcast Index's parser under node: install Debian's nodejs and npm (apt-get install -y nodejs npm)"
)


def _installed() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node, NODE_MISSING
    assert npm, NODE_MISSING
    modules = JS / "node_modules"
    with (JS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = modules / ".package-lock.json"
        if not marker.exists() or marker.stat().st_mtime < (JS / "package-lock.json").stat().st_mtime:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=JS, capture_output=True, text=True,
                timeout=300, check=False,
            )  # fmt: skip
            assert result.returncode == 0, f"npm ci in {JS} failed:\n{result.stdout}\n{result.stderr}"
    return Path(node)


def partytime(feed: bytes) -> Any:
    """What podcast-partytime's ``parseFeed`` keeps of an RSS feed (see tests/js/partytime.cjs)."""
    node = _installed()
    result = subprocess.run(
        [str(node), str(JS / "partytime.cjs")], input=feed, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout)

"""A server worker keeps the buffers of media ranges instead of faulting their pages in again for every read.

Measured in a child process (the allocator's settings are per process): a worker made by the servers' entry
point (``app_from_environment``) reads bursts of four 1 MiB ranges on a thread, as the edge does for seeking
players, and counts the minor page faults per MiB once warm. The same reads in a process that did not start
the app show what the default allocator costs, so the test proves it can tell.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from learning.config import Settings

CHILD = """
import os, resource, sys, threading

if sys.argv[1] == "worker":
    from learning.app import app_from_environment

    app_from_environment()

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def reads(out):
    fd = os.open(sys.argv[2], os.O_RDONLY)
    def burst():
        held = [os.pread(fd, 1 << 20, index << 20) for index in range(4)]
        del held
    for _ in range(3):
        burst()
    before = faults()
    for _ in range(20):
        burst()
    out.append((faults() - before) / 80)

out = []
thread = threading.Thread(target=reads, args=(out,))
thread.start()
thread.join()
print(out[0])
"""


def _faults_per_mib(kind: str, blob: Path, settings: Settings) -> float:
    env = {
        **os.environ,
        "LEARNING_DATABASE_URL": settings.require_database_url(),
        "LEARNING_DATA_DIR": str(settings.data_dir),
        "LEARNING_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(blob)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


def test_a_worker_reads_media_ranges_without_faulting_their_buffers_again(settings: Settings, tmp_path: Path) -> None:
    blob = tmp_path / "range-source.bin"
    blob.write_bytes(os.urandom(5 * 1024 * 1024))
    default = _faults_per_mib("plain", blob, settings)
    worker = _faults_per_mib("worker", blob, settings)
    assert default > 100  # the default allocator hands freed MiBs back and faults ~256 pages in per MiB read
    assert worker < 5

"""moto's S3 server as a subprocess on a loopback port, and a throwaway bucket per test.

The S3 tests go through the minio SDK over real HTTP. moto checks no signatures and is loose on some HTTP
details (it answers 500 to an unknown multipart upload id, for one): never treat its behaviour as the
specification. Its state lives in memory: ``stop()`` + ``start()`` gives an empty server on the same port.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import urllib3
from minio import Minio
from pydantic import SecretStr

from learning.config import StorageBackend
from learning.storage.s3 import S3Store

BUCKET_PREFIX = "learning-test-"
_READY_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def check_test_bucket(name: str) -> str:
    """Tests only ever touch buckets named ``learning-test-*``: a guard against a misconfigured endpoint."""
    if not name.startswith(BUCKET_PREFIX):
        raise ValueError(f"refusing to use bucket {name!r}: test buckets start with {BUCKET_PREFIX!r}")
    return name


class MotoServer:
    """``python -m moto.server`` on a fixed loopback port; ``stop()`` and ``start()`` for fault tests."""

    host = "127.0.0.1"
    access_key = "testing"
    secret_key = "testing"
    region = "us-east-1"

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + _READY_SECONDS
        while not _accepts(self.host, self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"moto server did not start on port {self.port}:\n{log}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        deadline = time.monotonic() + 10
        while _accepts(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def client(self) -> Minio:
        """A plain minio client (no retries) for test set-up and clean-up."""
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            secure=False,
            http_client=urllib3.PoolManager(retries=False),
        )

    def settings(self, bucket: str) -> dict[str, Any]:
        """``Settings`` overrides for an app storing in ``bucket`` on this server (typed: ``model_copy`` does
        not validate)."""
        return {
            "storage_backend": StorageBackend.S3,
            "s3_endpoint": self.endpoint,
            "s3_access_key": SecretStr(self.access_key),
            "s3_secret_key": SecretStr(self.secret_key),
            "s3_bucket": check_test_bucket(bucket),
            "s3_region": self.region,
            "s3_secure": False,
        }

    def store(self, bucket: str, **options: Any) -> S3Store:
        return S3Store(
            endpoint=self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            bucket=check_test_bucket(bucket),
            region=self.region,
            secure=False,
            **options,
        )


def remove_bucket(server: MotoServer, bucket: str) -> None:
    """Empty and remove a test bucket (objects and unfinished multipart uploads)."""
    client = server.client()
    check_test_bucket(bucket)
    if not client.bucket_exists(bucket):
        return
    for item in client.list_objects(bucket, recursive=True):
        client.remove_object(bucket, item.object_name)
    for upload in client._list_multipart_uploads(bucket).uploads:
        client._abort_multipart_upload(bucket, upload.object_name, upload.upload_id)
    client.remove_bucket(bucket)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's S3 server for the session, over real HTTP on a free loopback port."""
    server = MotoServer(tmp_path_factory.mktemp("moto") / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def new_bucket_name() -> str:
    return check_test_bucket(f"{BUCKET_PREFIX}{uuid.uuid4().hex[:16]}")


@pytest.fixture
def s3_bucket(s3_server: MotoServer) -> Iterator[str]:
    """A fresh bucket name for one test (not created); the bucket is emptied and removed afterwards."""
    name = new_bucket_name()
    yield name
    if s3_server.running:  # a fault test may have restarted it: its memory, buckets included, went with it
        remove_bucket(s3_server, name)


@pytest.fixture(scope="module")
def s3_settings(s3_server: MotoServer) -> Iterator[dict[str, Any]]:
    """``Settings`` overrides for an app on S3: a fresh bucket per test module (the app's store creates it)."""
    name = new_bucket_name()
    yield s3_server.settings(name)
    if s3_server.running:
        remove_bucket(s3_server, name)

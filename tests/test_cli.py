"""The embedded default, end to end: `learning serve` with no configuration, Ctrl-C, restart, CLI."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil

from tests.helpers.accounts import PASSWORD
from tests.helpers.cli import clean_environment, learning_command, run_learning
from tests.helpers.live import free_port

STARTUP_TIMEOUT_SECONDS = 90


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    return clean_environment(LEARNING_DATA_DIR=str(data_dir), LEARNING_PORT=str(port))


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "learning serve exited during start-up"
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling for start-up, not a timing assertion
    raise AssertionError("learning serve did not become ready")


def _postgres_running(pgdata: Path) -> bool:
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata) in " ".join(cmdline):
            return True
    return False


def _start(base: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(learning_command("serve"), env=env, cwd=cwd, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(base, process)
    except BaseException:
        process.kill()
        raise
    return process


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> int:
    process.send_signal(sig)
    return process.wait(timeout=60)


def test_embedded_default_serves_keeps_data_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "var"
    env = _environment(data_dir, port)
    pgdata = (data_dir / "pgdata").resolve()

    first = _start(base, env, tmp_path)
    try:
        assert httpx.get(f"{base}/health/ready").json()["checks"] == {"database": "ok", "storage": "ok"}
        # The shipped content is loaded at start: the MOOC's modules and the twelve webinars of 2019.
        assert httpx.get(f"{base}/api/v1/modules").json()["total"] >= 4
        series = httpx.get(f"{base}/api/v1/webinars").json()["items"][0]["slug"]
        assert httpx.get(f"{base}/api/v1/webinars/{series}?year=2019").json()["sessions"]["total"] == 12
        registered = httpx.post(
            f"{base}/api/v1/auth/register", json={"email": "ines@example.org", "password": PASSWORD}
        )
        assert registered.status_code == 201
        # A CLI command while the server runs joins the running embedded PostgreSQL.
        result = run_learning(
            "create-admin", "--email", "chef@example.org", "--password-stdin", input=f"{PASSWORD}\n", env=env,
            cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        token = httpx.post(f"{base}/api/v1/auth/login", json={"email": "chef@example.org", "password": PASSWORD})
        admin_headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert httpx.get(f"{base}/api/v1/admin/users", headers=admin_headers).json()["total"] == 2
    finally:
        assert _stop(first, signal.SIGINT) == 0  # Ctrl-C
    assert not _postgres_running(pgdata)

    second = _start(base, env, tmp_path)
    try:
        login = httpx.post(f"{base}/api/v1/auth/login", json={"email": "ines@example.org", "password": PASSWORD})
        assert login.status_code == 200
    finally:
        assert _stop(second, signal.SIGTERM) == 0
    assert not _postgres_running(pgdata)

    # With the server stopped, a CLI command starts the database for its own duration.
    result = run_learning(
        "create-admin", "--email", "second@example.org", "--password-stdin", input=f"{PASSWORD}\n", env=env,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "second@example.org" in result.stdout
    assert not _postgres_running(pgdata)


def test_db_upgrade_against_a_configured_database(database_url: str, tmp_path: Path) -> None:
    result = run_learning("db", "upgrade", env=clean_environment(LEARNING_DATABASE_URL=database_url), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout
    assert not (tmp_path / "var" / "pgdata").exists()  # nothing embedded was started


def test_sigterm_under_uvicorn_stops_the_embedded_database(tmp_path: Path) -> None:
    # uvicorn re-raises SIGTERM at itself once stopped; the CLI must still stop PostgreSQL on the way out.
    port = free_port()
    env = _environment(tmp_path / "var", port) | {
        "LEARNING_SERVER": "uvicorn",
        "LEARNING_CONTENT_SYNC_ON_START": "false",
    }
    process = _start(f"http://127.0.0.1:{port}", env, tmp_path)
    assert _stop(process, signal.SIGTERM) == 0
    assert not _postgres_running((tmp_path / "var" / "pgdata").resolve())

"""The `learning` command end to end: the embedded default (serve, Ctrl-C, restart), a busy port, the banner,
French help and errors, and `learning upload` (targets, resuming through any server, Ctrl-C, the page URL)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import click
import httpx
import psutil
import pytest

from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import SERIES, sync
from tests.helpers.cli import app_environment, clean_environment, learning_command, run_learning
from tests.helpers.database import libpq, sql
from tests.helpers.live import free_port, live_server
from tests.helpers.media import make_random_bytes, make_video

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
    assert "base de données à la révision head" in result.stdout
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


# --- help and errors in French -----------------------------------------------------------------------------
# Words click prints by default, and English words a help text would contain.
ENGLISH = re.compile(
    r"Usage:|Options:|Commands:|Show this message|Show the version|Error:|Try '|Aborted|\[default|\[required|"
    r"\b(TEXT|INTEGER|FILE|PATH|the|and|or|of|to|with|without|run|runs|one|when|Run|Create|Apply|Upload|Import)\b"
)


def _commands() -> list[list[str]]:
    """Every command and group of `learning`, as argument lists (the group itself is ``[]``)."""
    from learning.cli import main

    found: list[list[str]] = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        found.append(prefix)
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])
            else:
                found.append([*prefix, name])

    walk(main, [])
    return found


def test_the_help_of_every_command_is_in_french(tmp_path: Path) -> None:
    commands = _commands()
    for expected in (["upload"], ["db", "upgrade"], ["content", "sync"], ["serve"], ["worker"]):
        assert expected in commands
    for command in commands:
        result = run_learning(*command, "--help", env=clean_environment(), cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr)
        assert "Utilisation : " in result.stdout, command
        assert "Options :" in result.stdout, command
        assert "Affiche cette aide et quitte." in result.stdout, command
        english = ENGLISH.findall(re.sub(r"--[\w-]+", "", result.stdout))  # option names are not prose
        assert not english, (command, english, result.stdout)


def test_usage_errors_are_one_french_line(tmp_path: Path) -> None:
    for args, expected in [
        (["upload", "--bogus"], "option inconnue : --bogus"),
        (["create-admin"], "option manquante : --email"),
        (["nope"], "commande inconnue : nope"),
        (["upload", str(tmp_path / "absent.mp4"), "--session", "2019-05"], "n’existe pas"),
        (["upload", str(tmp_path), "--session", "2019-05"], "n’est pas un fichier"),
        (["upload", str(Path(__file__))], "donnez soit --session, soit --lesson"),
    ]:
        result = run_learning(*args, env=clean_environment(), cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("Erreur : "), lines
        assert expected in lines[0], (args, lines)
        # File paths are the user's, not our wording (pytest's own folder is /tmp/pytest-of-root/…).
        assert not ENGLISH.findall(re.sub(r"/\S+", "", lines[0])), lines


# --- serve: a busy port, the banner ------------------------------------------------------------------------
def _run_bounded(command: list[str], env: dict[str, str], cwd: Path, timeout: float) -> tuple[int, str]:
    """Run ``command`` in its own process group; on timeout, stop the whole group (granian's workers too)."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)  # fmt: skip
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"{command} still running after {timeout} s (it started instead of refusing)") from None
    return process.returncode, stderr


def _assert_refused_port(returncode: int, stderr: str, port: int) -> None:
    assert returncode == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert f"le port {port} est déjà pris" in lines[0]


def test_serve_on_a_port_another_program_holds_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = int(holder.getsockname()[1])
        returncode, stderr = _run_bounded(
            learning_command("serve"), _environment(tmp_path / "var", port), tmp_path, timeout=120
        )
    _assert_refused_port(returncode, stderr, port)
    assert not (tmp_path / "var" / "pgdata").exists()  # refused before anything started


def test_serve_lists_its_pages_and_a_second_serve_on_its_port_is_refused(clean_database: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_environment(
        LEARNING_DATABASE_URL=clean_database, LEARNING_DATA_DIR=str(tmp_path / "var"), LEARNING_PORT=str(port)
    )
    log = tmp_path / "serve.stderr"
    with log.open("wb") as stderr:
        first = subprocess.Popen(learning_command("serve"), env=env, cwd=tmp_path, stderr=stderr)
    try:
        _wait_ready(base, first)
        banner = "\n".join(  # the lines before the server's own JSON log lines
            line for line in log.read_text(encoding="utf-8").splitlines() if not line.startswith("{")
        )
        listed = set(re.findall(r"http://\S+", banner))
        # The feeds readers can fetch: those of the published modules and webinar series.
        feeds = sql(
            clean_database,
            "SELECT f.kind, f.source_slug FROM podcast_feed f "
            "LEFT JOIN module mo ON f.kind = 'module' AND mo.slug = f.source_slug "
            "LEFT JOIN webinar_series se ON f.kind = 'webinar_series' AND se.slug = f.source_slug "
            "WHERE coalesce(mo.publication, se.publication) = 'published'",
        )
        assert {row["kind"] for row in feeds} == {"webinar_series", "module"}
        expected = {f"{base}/", f"{base}/admin/", f"{base}/schema"} | {
            f"{base}/feeds/{'webinars' if row['kind'] == 'webinar_series' else 'modules'}/{row['source_slug']}.xml"
            for row in feeds
        }
        assert expected <= listed, banner
        for url in listed:  # every address listed answers (the admin sends visitors to sign in)
            assert httpx.get(url, timeout=30).status_code in {200, 303}, url

        # granian binds with SO_REUSEPORT: without a check, a second server would share the port.
        returncode, stderr_text = _run_bounded(learning_command("serve"), env, tmp_path, timeout=120)
        _assert_refused_port(returncode, stderr_text, port)
        assert first.poll() is None
        assert httpx.get(f"{base}/health/ready", timeout=10).status_code == 200
    finally:
        assert _stop(first, signal.SIGTERM) == 0


# --- upload ------------------------------------------------------------------------------------------------
ADMIN = "regie@example.org"
MIB = 1024 * 1024


@pytest.fixture
def upload_settings(settings: Settings) -> Settings:
    sync(settings)
    asyncio.run(create_admin(settings, email=ADMIN, password=PASSWORD))
    return settings


class HoldSecondPatch:
    """An ASGI wrapper that holds the upload's second PATCH until released (when ``armed``): the CLI is then
    mid-upload. Unarmed, it lets every PATCH through (a test uploading twice must not find its second upload
    held: it waited 120 s for a release that never came)."""

    def __init__(self, app: Any, *, armed: bool) -> None:
        self.app = app
        self.armed = armed
        self.patches = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self.done = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        held = False
        if self.armed and scope["type"] == "http" and scope["method"] == "PATCH":
            self.patches += 1
            if self.patches == 2:
                held = True
                self.holding.set()
                await anyio.to_thread.run_sync(self.release.wait, 120)
        try:
            await self.app(scope, receive, send)
        finally:
            if held:
                self.done.set()


@pytest.fixture
def make_server(upload_settings: Settings) -> Iterator[Callable[..., tuple[str, HoldSecondPatch]]]:
    """Start a server (its public address its own, as `learning serve` has); stopped after the test."""
    stack = contextlib.ExitStack()
    hooks: list[HoldSecondPatch] = []

    def start(*, hold_second_patch: bool = False, **overrides: Any) -> tuple[str, HoldSecondPatch]:
        port = free_port()
        settings = upload_settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}", **overrides})
        hook = HoldSecondPatch(create_app(settings), armed=hold_second_patch)
        hooks.append(hook)
        return stack.enter_context(live_server(hook, port=port)), hook  # type: ignore[arg-type]

    with stack:
        yield start
        for hook in hooks:
            hook.release.set()


def _pause_once_bytes_arrive(database_url: str, process: subprocess.Popen[str]) -> int:
    """Stop the command (SIGSTOP) the moment its upload's first bytes are recorded, so that it cannot finish
    before the Ctrl-C that follows, however fast the machine; the offset recorded then. One connection polled
    every 5 ms: the upload takes many times that to send the rest."""

    async def watch() -> int:
        connection = await asyncpg.connect(libpq(database_url))
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                offset = await connection.fetchval('SELECT "offset" FROM upload')
                if offset:
                    process.send_signal(signal.SIGSTOP)
                    return int(await connection.fetchval('SELECT "offset" FROM upload'))
                await asyncio.sleep(0.005)  # polling for the first bytes, not a timing assertion
            raise AssertionError(f"no bytes arrived (exit {process.poll()})")
        finally:
            await connection.close()

    return asyncio.run(watch())


def _interrupt(process: subprocess.Popen[str], *, stopped: bool = False) -> str:
    """Ctrl-C the command (``stopped``: paused by SIGSTOP, continued right after the signal); its stderr. A
    command still running 60 s later fails the test with what it was doing: its signal masks and what each of
    its threads waits on."""
    status = Path(f"/proc/{process.pid}/status").read_text()
    masks = [line for line in status.splitlines() if line.startswith(("SigBlk", "SigIgn"))]
    process.send_signal(signal.SIGINT)
    if stopped:
        process.send_signal(signal.SIGCONT)
    try:
        stderr = process.communicate(timeout=60)[1] or ""
    except subprocess.TimeoutExpired:
        waits = {t.name: (t / "wchan").read_text() for t in Path(f"/proc/{process.pid}/task").iterdir()}
        process.kill()
        _, stderr = process.communicate(timeout=30)
        raise AssertionError(f"still running 60 s after Ctrl-C: {masks} {waits}\n{stderr}") from None
    assert process.returncode == 130, f"{masks}\n{stderr}"  # Ctrl-C, as shells report it
    return stderr


def _upload(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_learning("upload", *args, env=app_environment(settings, **env), cwd=settings.data_dir.parent,
                        timeout=300)  # fmt: skip


def _session(database_url: str, prefix: str) -> Any:
    return sql(database_url, "SELECT slug, replay_id, publication FROM webinar_session WHERE slug LIKE $1",
               f"{prefix}%")[0]  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_upload_of_one_file_to_two_sessions_attaches_it_to_both(
    make_server: Callable[..., tuple[str, HoldSecondPatch]], upload_settings: Settings, tmp_path: Path
) -> None:
    base, _ = make_server()
    source = make_video(tmp_path / "replay.mp4", seconds=1.0)
    url = upload_settings.require_database_url()
    for month in ("2019-05", "2019-06"):
        result = _upload(upload_settings, str(source), "--session", month, "--server", base)
        assert result.returncode == 0, result.stderr
        assert _session(url, month)["replay_id"] is not None, month
    assert len(sql(url, "SELECT id FROM upload")) == 2
    assert _session(url, "2019-05")["replay_id"] != _session(url, "2019-06")["replay_id"]
    assert json.loads((upload_settings.data_dir / "uploads.json").read_text())["uploads"] == {}  # done: forgotten


def test_an_interrupted_upload_is_not_resumed_for_another_session(
    make_server: Callable[..., tuple[str, HoldSecondPatch]], upload_settings: Settings, tmp_path: Path
) -> None:
    base, hook = make_server(hold_second_patch=True, jobs_in_process=False)  # random bytes: no processing
    source = make_random_bytes(tmp_path / "deux.bin", 3 * MIB)
    url = upload_settings.require_database_url()

    def args(month: str) -> list[str]:
        return ["upload", str(source), "--session", month, "--server", base, "--no-wait", "--chunk-size", "1"]

    process = subprocess.Popen(learning_command(*args("2019-05")), env=app_environment(upload_settings),
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert hook.holding.wait(120), "the second PATCH never came"
        _interrupt(process)
    finally:
        hook.release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert hook.done.wait(60)

    other = run_learning(*args("2019-06"), env=app_environment(upload_settings), cwd=tmp_path, timeout=300)
    assert other.returncode == 0, other.stderr
    assert "reprise" not in other.stderr  # a new upload for 2019-06, not the rest of 2019-05's
    first = run_learning(*args("2019-05"), env=app_environment(upload_settings), cwd=tmp_path, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "reprise à" in first.stderr
    rows = sql(url, 'SELECT s.slug, u."offset", u.length FROM upload u JOIN webinar_session s ON s.id = u.target_id '
                    "ORDER BY s.slug")  # fmt: skip
    assert [row["slug"][:7] for row in rows] == ["2019-05", "2019-06"]
    assert all(row["offset"] == row["length"] == source.stat().st_size for row in rows)


def test_upload_ends_with_the_page_where_the_replay_is_published(
    make_server: Callable[..., tuple[str, HoldSecondPatch]], upload_settings: Settings, tmp_path: Path
) -> None:
    base, _ = make_server()
    source = make_video(tmp_path / "juillet.mp4", seconds=1.0)
    result = _upload(upload_settings, str(source), "--session", "2019-07", "--publish", "--server", base)
    assert result.returncode == 0, result.stderr
    session = _session(upload_settings.require_database_url(), "2019-07")
    page = f"{base}/webinaires/{SERIES}/{session['slug']}"
    assert result.stdout.strip().splitlines()[-1] == f"Replay prêt et publié : {page}"
    answer = httpx.get(page)
    assert answer.status_code == 200
    assert f"/media/{session['replay_id']}/" in answer.text  # the page plays the uploaded replay


def test_upload_to_an_unknown_session_is_one_french_sentence(
    make_server: Callable[..., tuple[str, HoldSecondPatch]], upload_settings: Settings, tmp_path: Path
) -> None:
    base, _ = make_server()
    source = make_video(tmp_path / "treize.mp4", seconds=1.0)
    result = _upload(upload_settings, str(source), "--session", "2019-13", "--server", base)
    assert result.returncode == 1
    assert result.stderr.strip() == "Erreur : la séance 2019-13 n’existe pas"


def test_ctrl_c_during_an_upload_says_how_to_resume_and_the_rerun_resumes(
    make_server: Callable[..., tuple[str, HoldSecondPatch]], upload_settings: Settings, tmp_path: Path
) -> None:
    base, hook = make_server(hold_second_patch=True, jobs_in_process=False)  # random bytes: no processing
    source = make_random_bytes(tmp_path / "long.bin", 4 * MIB)
    args = ["upload", str(source), "--session", "2019-08", "--server", base, "--no-wait", "--chunk-size", "1"]
    process = subprocess.Popen(learning_command(*args), env=app_environment(upload_settings), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert hook.holding.wait(120), "the second PATCH never came"  # 1 MiB of 4 sent: mid-upload
        stderr = _interrupt(process)
    finally:
        hook.release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == [
        "Envoi interrompu à 25 % : relancez la même commande pour reprendre."
    ]
    assert hook.done.wait(60)  # the held PATCH has ended on the server's side too

    again = run_learning(*args, env=app_environment(upload_settings), cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    resumed = re.search(r"reprise à (\d+) %", again.stderr)
    assert resumed is not None, again.stderr
    assert 25 <= int(resumed.group(1)) < 100
    uploads = sql(upload_settings.require_database_url(), "SELECT status, storage_key FROM upload")
    assert len(uploads) == 1  # resumed, not started over
    assert _sha256(upload_settings.media_root / uploads[0]["storage_key"]) == _sha256(source)


def test_upload_started_without_a_server_resumes_without_one(upload_settings: Settings, tmp_path: Path) -> None:
    # No server runs: each run starts the app on a port of its own. The first run's port must not be kept.
    env = app_environment(upload_settings, LEARNING_PORT=str(free_port()), LEARNING_JOBS_IN_PROCESS="false")
    source = make_random_bytes(tmp_path / "sans-serveur.bin", 48 * MIB)
    args = ["upload", str(source), "--session", "2019-09", "--no-wait", "--chunk-size", "1"]
    url = upload_settings.require_database_url()
    process = subprocess.Popen(learning_command(*args), env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        paused_at = _pause_once_bytes_arrive(url, process)  # polling for bytes raced a fast upload to its end
        assert 0 < paused_at < source.stat().st_size
        stderr = _interrupt(process, stopped=True)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    held = int(sql(url, 'SELECT "offset" FROM upload')[0]["offset"])
    assert 0 < held < source.stat().st_size

    again = run_learning(*args, env=env, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert re.search(r"reprise à \d+ %", again.stderr), again.stderr
    uploads = sql(url, "SELECT status, storage_key FROM upload")
    assert len(uploads) == 1
    assert uploads[0]["status"] == "uploaded"
    assert _sha256(upload_settings.media_root / uploads[0]["storage_key"]) == _sha256(source)

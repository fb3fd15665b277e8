"""The deployment files: docker-compose.yml, Dockerfile, .dockerignore.

No Docker engine runs these tests: the compose file is validated against the Compose specification schema
and its wiring checked statically, and every LEARNING_* variable it names must be a real setting.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from learning.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

LEARNING_SERVICES = ("app", "worker")
REQUIRED_APP_ENV = (
    "LEARNING_DATABASE_URL",
    "LEARNING_STORAGE_BACKEND",
    "LEARNING_S3_ENDPOINT",
    "LEARNING_S3_ACCESS_KEY",
    "LEARNING_S3_SECRET_KEY",
    "LEARNING_S3_BUCKET",
    "LEARNING_SECRET_KEY",
)
CONTENT_FOLDERS = ("migrations", "modules", "feeds", "media")


def _compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    return document


def _service(name: str) -> dict[str, Any]:
    services = _compose().get("services") or {}
    assert name in services, f"service {name!r} missing from docker-compose.yml"
    service = services[name]
    assert isinstance(service, dict)
    return service


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two Compose forms it uses."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {str(key): "" if value is None else str(value) for key, value in raw.items()}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    if current:
        logical.append(current)
    instructions: list[tuple[str, str]] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM"
    return instructions[starts[-1] :]


def test_compose_file_validates_against_compose_spec_schema() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["postgres", "minio", "minio-setup", "app", "worker"])
def test_compose_defines_service_when_stack_is_complete(name: str) -> None:
    _service(name)


@pytest.mark.parametrize("service_name", LEARNING_SERVICES)
def test_learning_service_has_required_settings_when_configured(service_name: str) -> None:
    environment = _environment(_service(service_name))
    missing = [name for name in REQUIRED_APP_ENV if not environment.get(name)]
    assert not missing, f"{service_name} lacks {missing}"


@pytest.mark.parametrize("service_name", LEARNING_SERVICES)
def test_learning_service_uses_minio_when_configured(service_name: str) -> None:
    environment = _environment(_service(service_name))
    assert environment["LEARNING_STORAGE_BACKEND"] == "s3"
    host, _, port = environment["LEARNING_S3_ENDPOINT"].partition(":")
    assert host == "minio", "the S3 endpoint must be the minio service (host:port, no scheme)"
    assert port.isdigit()


@pytest.mark.parametrize("service_name", LEARNING_SERVICES)
def test_learning_service_database_is_compose_postgres_when_configured(service_name: str) -> None:
    url = _environment(_service(service_name))["LEARNING_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in url


def test_worker_environment_matches_app_environment_when_shared() -> None:
    assert _environment(_service("worker")) == _environment(_service("app"))


def test_worker_runs_worker_command_when_started() -> None:
    command = _service("worker").get("command")
    words = command.split() if isinstance(command, str) else command
    assert words == ["learning", "worker"]


def test_media_delivery_is_stream_when_minio_is_private() -> None:
    minio = _service("minio")
    assert not minio.get("ports"), "minio publishes ports: revisit LEARNING_MEDIA_DELIVERY"
    for service_name in LEARNING_SERVICES:
        assert _environment(_service(service_name)).get("LEARNING_MEDIA_DELIVERY") == "stream"


@pytest.mark.parametrize("name", ["postgres", "minio", "app"])
def test_service_has_healthcheck_when_others_wait_on_it(name: str) -> None:
    healthcheck = _service(name).get("healthcheck") or {}
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
    test = healthcheck.get("test")
    assert test, f"{name} has no healthcheck test"
    assert test not in (["NONE"], "NONE")


@pytest.mark.parametrize(("name", "target"), [("postgres", "/var/lib/postgresql/data"), ("minio", "/data")])
def test_data_is_on_named_volume_when_service_is_stateful(name: str, target: str) -> None:
    declared = _compose().get("volumes") or {}
    mounts = []
    for volume in _service(name).get("volumes") or []:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            mounts.append((source, rest.split(":")[0]))
        else:
            mounts.append((volume.get("source", ""), volume.get("target", "")))
    sources = [source for source, mount_target in mounts if mount_target == target]
    assert sources, f"{name} mounts nothing at {target}"
    assert sources[0] in declared, f"{name} mounts {sources[0]!r}, not a named volume"


def test_app_waits_for_database_and_bucket_when_starting() -> None:
    depends_on = _service("app").get("depends_on") or {}
    assert isinstance(depends_on, dict), "depends_on must use the long form to carry conditions"
    assert (depends_on.get("postgres") or {}).get("condition") == "service_healthy"
    assert (depends_on.get("minio-setup") or {}).get("condition") == "service_completed_successfully"


def test_minio_setup_runs_once_when_bucket_is_created() -> None:
    setup = _service("minio-setup")
    assert setup.get("restart") == "no"
    assert (setup.get("depends_on") or {}).get("minio", {}).get("condition") == "service_healthy"


def test_app_publishes_http_port_when_serving() -> None:
    assert "8000:8000" in [str(port) for port in _service("app").get("ports") or []]


def test_compose_names_only_real_settings_when_using_learning_variables() -> None:
    known = {ENV_PREFIX + field.upper() for field in Settings.model_fields}
    named = set(re.findall(r"\bLEARNING_[A-Z0-9_]+\b", COMPOSE_FILE.read_text(encoding="utf-8")))
    assert named, "docker-compose.yml names no LEARNING_* variable"
    unknown = sorted(named - known)
    assert not unknown, f"not fields of learning.config.Settings: {unknown}"


@pytest.mark.parametrize("folder", CONTENT_FOLDERS)
def test_image_contains_content_folder_when_built(folder: str) -> None:
    copied: set[str] = set()
    for keyword, arguments in _final_stage(_dockerfile_instructions()):
        if keyword != "COPY" or "--from" in arguments:
            continue
        words = [word for word in arguments.split() if not word.startswith("--")]
        copied.update(source.removeprefix("./").rstrip("/") for source in words[:-1])
    assert folder in copied, f"the runtime stage does not COPY {folder}/"
    assert (ROOT / folder).is_dir(), f"{folder}/ is missing from the repository"


def test_image_runs_unprivileged_when_started() -> None:
    stage = _final_stage(_dockerfile_instructions())
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users, "the runtime stage has no USER line: the app would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_image_serves_with_healthcheck_when_run() -> None:
    stage = _final_stage(_dockerfile_instructions())
    keywords = dict(stage)
    assert "/health/live" in keywords.get("HEALTHCHECK", "")
    assert "8000" in keywords.get("EXPOSE", "").split()
    assert re.fullmatch(r'\[\s*"learning"\s*,\s*"serve"\s*\]|learning serve', keywords.get("CMD", ""))


@pytest.mark.parametrize("pattern", [".env", ".venv", "var", ".git"])
def test_build_context_excludes_local_state_when_building(pattern: str) -> None:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    entries = {line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")}
    assert pattern in entries, f".dockerignore does not exclude {pattern}"

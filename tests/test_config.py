"""Settings: parsed from LEARNING_* variables; a bad value stops start-up with one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from learning.config import MediaDelivery, SettingsError, StorageBackend, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("LEARNING_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_describe_the_embedded_setup() -> None:
    settings = load_settings()
    assert settings.embedded
    assert settings.storage_backend is StorageBackend.LOCAL
    assert settings.media_root == Path("var") / "media"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_the_public_address_follows_the_port_unless_it_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().base_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("LEARNING_PORT", "8123")
    assert load_settings().base_url == "http://127.0.0.1:8123"  # feeds and enclosures point at this server
    monkeypatch.setenv("LEARNING_HOST", "0.0.0.0")  # noqa: S104 — a setting, not a bind
    assert load_settings().base_url == "http://127.0.0.1:8123"
    monkeypatch.setenv("LEARNING_PUBLIC_BASE_URL", "https://formation.example.org/")
    assert load_settings().base_url == "https://formation.example.org"


def test_environment_values_are_parsed_and_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEARNING_DATABASE_URL", "postgresql://u:p@db:5432/learning")
    monkeypatch.setenv("LEARNING_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("LEARNING_S3_SECURE", "true")
    monkeypatch.setenv("LEARNING_MEDIA_DELIVERY", "redirect")
    monkeypatch.setenv("LEARNING_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("LEARNING_TOKEN_LIFETIME_SECONDS", "3600")
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/learning"
    assert not settings.embedded
    assert settings.storage_backend is StorageBackend.S3
    assert settings.s3_secure is True
    assert settings.media_delivery is MediaDelivery.REDIRECT
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.token_lifetime_seconds == 3600


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LEARNING_PORT=8123\n", encoding="utf-8")
    assert load_settings().port == 8123


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LEARNING_PORT", "eighty"),
        ("LEARNING_PORT", "70000"),
        ("LEARNING_STORAGE_BACKEND", "ftp"),
        ("LEARNING_DATABASE_URL", "mysql://localhost/x"),
        ("LEARNING_PUBLIC_BASE_URL", "not a url"),
        ("LEARNING_LOG_LEVEL", "LOUD"),
        ("LEARNING_S3_BUCKET", "Bad_Bucket"),
        ("LEARNING_SECRET_KEY", "short"),
    ],
)
def test_bad_value_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert variable in message
    assert "\n" not in message


def test_bad_value_stops_the_cli_before_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "learning.cli", "db", "upgrade"],
        env={"LEARNING_PORT": "-1", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert error_lines == [error_lines[0]]
    assert "LEARNING_PORT" in error_lines[0]


def test_secrets_stay_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEARNING_SECRET_KEY", "super-secret-signing-key-1234567890-abcdef")
    monkeypatch.setenv("LEARNING_S3_SECRET_KEY", "s3-secret-value")
    text = repr(load_settings())
    assert "super-secret-signing-key-1234567890-abcdef" not in text
    assert "s3-secret-value" not in text


def test_signing_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "state")
    first = settings.signing_key()
    assert len(first) >= 32
    assert load_settings(data_dir=tmp_path / "state").signing_key() == first
    assert (tmp_path / "state" / "secret_key").stat().st_mode & 0o077 == 0

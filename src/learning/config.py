"""Typed settings, read from ``LEARNING_*`` environment variables (and an optional ``.env``).

Settings are built once — by the CLI or by a test — and injected; no module reads them at import time.
"""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "LEARNING_"


class StorageBackend(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class MediaDelivery(StrEnum):
    STREAM = "stream"
    REDIRECT = "redirect"


EMAIL_OR_NOTHING = r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$"  # an address, or unset


class SettingsError(Exception):
    """A configuration value is invalid; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # --- database -----------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql+asyncpg://…). Unset: an embedded PostgreSQL under data_dir.",
    )
    database_pool_size: int = Field(default=20, ge=1, le=200)
    data_dir: Path = Field(default=Path("var"), description="Where the embedded default keeps its state.")

    content_dir: Path | None = Field(default=None, description="Folder holding modules/, feeds/, media/.")
    content_sync_on_start: bool = Field(default=True, description="`learning serve` syncs the content first.")

    # --- object storage -----------------------------------------------------------------------
    storage_backend: StorageBackend = StorageBackend.LOCAL
    local_storage_root: Path | None = Field(default=None, description="LocalStore root; default data_dir/media.")
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: SecretStr = SecretStr("")
    s3_secret_key: SecretStr = SecretStr("")
    s3_bucket: str = Field(default="learning-media", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    s3_region: str = "us-east-1"
    s3_secure: bool = False
    media_delivery: MediaDelivery = MediaDelivery.STREAM
    presign_ttl_seconds: int = Field(default=900, ge=10, le=7 * 24 * 3600)

    # --- HTTP ---------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    server: Literal["granian", "uvicorn"] = "granian"
    public_base_url: AnyHttpUrl | None = None  # None: this server's own address (host and port)
    feed_page_items: int = Field(
        default=1000, ge=10, le=100_000,
        description="Episodes per feed document: a longer feed is paged (RFC 5005: the subscription URL holds the "
        "newest, ``?page=2`` the next ones, linked by atom:link rel=next/previous/first/last).",
    )  # fmt: skip
    site_publisher: str = Field(
        default="", max_length=300,
        description="Who publishes this installation (« Mentions légales »): a person's or an organisation's name.",
    )  # fmt: skip
    site_contact_email: str = Field(
        default="", max_length=320, pattern=EMAIL_OR_NOTHING,
        description="Where learners write about the site, their personal data or its accessibility.",
    )  # fmt: skip
    site_host: str = Field(
        default="", max_length=300, description="Who hosts this installation, and their address (« Mentions légales »)."
    )
    feed_owner_name: str = Field(
        default="", max_length=255,
        description="itunes:owner name of the feeds whose file names none: who runs this installation.",
    )  # fmt: skip
    feed_owner_email: str = Field(
        default="", max_length=320, pattern=EMAIL_OR_NOTHING,
        description="itunes:owner e-mail of the feeds whose file names none (Apple Podcasts checks ownership by "
        "mailing it; podcast:locked names it). Unset: feeds carry no owner e-mail.",
    )  # fmt: skip
    feed_max_age_seconds: int = Field(
        default=300, ge=0, le=86400, description="Cache-Control max-age of podcast feeds (seconds)."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    edge: bool = Field(
        default=True, description="Answer stored public answers in front of the app (false: the routes answer all)."
    )
    answer_cache_max_bytes: int = Field(
        default=128 * 1024 * 1024, ge=64 * 1024, le=64 * 1024**3,
        description="Bytes of ready answers the edge keeps per process (an answer above a quarter is not kept).",
    )  # fmt: skip
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    search_count_cap: int = Field(
        default=1000, ge=1, le=1_000_000,
        description="Search matches counted exactly; beyond, the total is this cap, flagged as a lower bound.",
    )  # fmt: skip

    # --- accounts -----------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        default=None, description="Signs tokens. Unset: generated once and kept in data_dir/secret_key."
    )
    credential_key: SecretStr | None = Field(
        default=None,
        description="Signs attestation credentials: a private P-256 JWK (JSON). Unset: generated once and kept in "
        "data_dir/credential_key.jwk; its public half is at /.well-known/jwks.json.",
    )
    token_lifetime_seconds: int = Field(default=24 * 3600, ge=60, le=90 * 24 * 3600)
    password_min_length: int = Field(default=10, ge=8, le=128)
    login_ip_limit: int = Field(default=20, ge=1, description="Login attempts per IP per window.")
    login_account_limit: int = Field(
        default=5, ge=1, description="Failed logins per account from one client per window."
    )
    login_window_seconds: int = Field(default=300, ge=1)

    password_reset_minutes: int = Field(
        default=30, ge=5, le=24 * 60, description="How long a password-reset link works (it works once)."
    )
    password_reset_limit: int = Field(
        default=5, ge=1, description="Password-reset requests per client address and per address asked, per hour."
    )
    email_confirmation_hours: int = Field(
        default=48, ge=1, le=30 * 24,
        description="How long a link confirming an e-mail address works (it works once).",
    )  # fmt: skip
    require_verified_email: bool = Field(
        default=False,
        description="Learners confirm their e-mail address (a link sent to it) before they can enroll in a module.",
    )

    # --- e-mail -------------------------------------------------------------------------------
    smtp_host: str = Field(
        default="", max_length=255,
        description="SMTP server that sends the site's e-mail. Unset: each message is written as an .eml file "
        "under data_dir/outbox/ (and its subject logged), so every flow works without a mail server.",
    )  # fmt: skip
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = Field(default="", max_length=320)
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    mail_from: str = Field(
        default="Les alliances qui changent les territoires <ne-pas-repondre@localhost>", max_length=400,
        description="The From of every message (a mailbox the SMTP server may send as).",
    )  # fmt: skip

    # --- webinar registrations ----------------------------------------------------------------
    reminder_first_hours: float = Field(
        default=24.0, gt=0, le=24 * 14, description="First reminder to registered learners: hours before a session."
    )
    reminder_second_minutes: int = Field(
        default=60, ge=1, le=24 * 60, description="Second reminder: minutes before a session."
    )

    # --- uploads ------------------------------------------------------------------------------
    upload_max_bytes: int = Field(default=4 * 1024**3, ge=1024)
    jobs_in_process: bool = Field(
        default=True, description="Run the processing jobs inside the app (else in `learning worker`)."
    )
    job_heartbeat_timeout_seconds: float = Field(
        default=30.0, ge=2.0, le=3600.0,
        description="A job whose worker sent no heartbeat for this long (a crashed process) is run again; "
        "heartbeats go every half of it.",
    )  # fmt: skip

    # --- platform limits (issue 17) ---
    database_statement_timeout_ms: int = Field(
        default=5000, ge=100, le=600_000,
        description="PostgreSQL statement_timeout of every connection (ms); the client gives up 1 s later.",
    )  # fmt: skip
    database_lock_timeout_ms: int = Field(
        default=2000, ge=10, le=600_000, description="PostgreSQL lock_timeout of every connection (ms)."
    )
    database_pool_timeout_seconds: float = Field(
        default=3.0, gt=0, le=60, description="Longest wait for a pooled connection before answering 503."
    )
    database_connect_timeout_seconds: float = Field(
        default=3.0, gt=0, le=60, description="Longest wait to open a PostgreSQL connection."
    )
    json_max_depth: int = Field(
        default=32, ge=2, le=256, description="Deepest nesting of arrays and objects in a JSON body (400 beyond)."
    )

    # --- progress limits (issue 17) ---
    # Far above a real player (a batch of a few events every few seconds); a batch holds at most 500 events,
    # so each limit lets at least one full batch through.
    progress_events_per_minute: int = Field(
        default=1200, ge=500, le=1_000_000, description="Progress events one learner may store per minute (429)."
    )
    progress_events_per_lesson_per_day: int = Field(
        default=20_000, ge=500, le=10_000_000,
        description="Progress events one learner may store for one lesson per UTC day (429).",
    )  # fmt: skip

    # An xAPI export page (up to 500 statements) costs the event loop about ten milliseconds: one caller asking
    # pages back to back would keep it half busy. Each caller gets a burst, then a steady pace (lib/pacing.py).
    xapi_pages_per_second: float = Field(
        default=2.0, gt=0, le=1000, description="xAPI export pages one caller gets per second after the burst."
    )
    xapi_page_burst: int = Field(
        default=10, ge=1, le=10_000, description="xAPI export pages one caller gets at once before the pace applies."
    )

    # --- accounts limits (issue 17) ---
    login_account_ceiling: int = Field(
        default=50, ge=1, le=100_000,
        description="Failed logins per account from all clients per window before clients that failed wait.",
    )  # fmt: skip
    login_backoff_seconds: int = Field(
        default=2, ge=1, le=3600, description="First wait above the ceiling; doubles with each further ceiling."
    )
    login_backoff_max_seconds: int = Field(default=300, ge=1, le=24 * 3600, description="Longest backoff wait.")
    register_ip_limit: int = Field(default=10, ge=1, le=100_000, description="Registrations per client per window.")
    register_window_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    password_check_limit: int = Field(
        default=5, ge=1, le=10_000,
        description="Wrong current passwords on /me/password per account, and per client, per login window.",
    )  # fmt: skip
    password_hash_concurrency: int = Field(
        default=1, ge=1, le=64,
        description="Password hashes computed at once per process (each fills one core and its memory cost).",
    )  # fmt: skip
    # argon2id, one lane: OWASP's first configuration (m=19 MiB, t=2, p=1) by default. Stored hashes carry their
    # parameters; a login with a hash made under other parameters stores a new one.
    password_hash_memory_kib: int = Field(
        default=19_456, ge=7_168, le=4_194_304, description="argon2id memory per hash, in KiB."
    )
    password_hash_iterations: int = Field(default=2, ge=1, le=20, description="argon2id passes over the memory.")
    password_hash_wait_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Longest wait for a hashing slot before a 503."
    )
    # Each client its share of the event loop (lib/fairness.py); behind a proxy, clients are told apart only
    # when LEARNING_TRUSTED_PROXIES names it.
    client_concurrency: int = Field(
        default=8, ge=1, le=100_000, description="Requests of one client worked on at once per process."
    )
    client_wait_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Longest wait of a client's request for its turn before a 429."
    )
    client_waiting_limit: int = Field(
        default=256, ge=0, le=100_000, description="Requests of one client waiting their turn; more are 429."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies whose X-Forwarded-For/-Proto are believed.",
    )

    # --- uploads limits (issue 17) ---
    upload_body_timeout_seconds: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description="A tus body that sends no byte for this long is cut (what it delivered is kept).",
    )
    upload_quota_bytes: int = Field(
        default=64 * 1024**3,
        ge=1024,
        description="Total declared bytes of the unfinished uploads; a creation beyond is 507.",
    )
    upload_free_space_reserve_bytes: int = Field(
        default=1024**3,
        ge=0,
        description="Local store: bytes left free after every unfinished upload completes; a creation beyond is 507.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [proxy.strip() for proxy in value.split(",") if proxy.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < 32:
            raise ValueError("must have at least 32 characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must be a postgresql:// or postgresql+asyncpg:// URL")
        return value

    @property
    def embedded(self) -> bool:
        """True when no database URL is given: the service runs its own PostgreSQL."""
        return self.database_url is None

    @property
    def outbox_dir(self) -> Path:
        """Where messages go without an SMTP server."""
        return self.data_dir / "outbox"

    def require_database_url(self) -> str:
        """The database URL, once the CLI has resolved it (configured, or the embedded server's)."""
        if self.database_url is None:
            raise SettingsError("LEARNING_DATABASE_URL is required here (`learning serve` starts an embedded one)")
        return self.database_url

    @property
    def media_root(self) -> Path:
        return self.local_storage_root or self.data_dir / "media"

    @property
    def content_root(self) -> Path:
        from learning.paths import project_root

        return self.content_dir or project_root()

    @property
    def base_url(self) -> str:
        """The public address written into feeds, enclosures and xAPI: configured, or where this server listens."""
        if self.public_base_url is not None:
            return str(self.public_base_url).rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host  # noqa: S104 — compared, not bound
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def signing_key(self) -> str:
        """The token-signing secret: configured, or generated once and kept under data_dir."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key, encoding="utf-8")
        path.chmod(0o600)
        return key


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; raise ``SettingsError`` with one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        message = first["msg"]
        raise SettingsError(f"invalid {ENV_PREFIX}{field.upper()}: {message}") from None

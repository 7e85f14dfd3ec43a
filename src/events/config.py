"""Settings, read once from the environment (``EVENTS_*``).

Nothing else in the code base reads ``os.environ``. A secret never has a known default:
outside ``dev`` and ``test`` the app refuses to start without ``EVENTS_SECRET_KEY``; in
``dev`` an unset key is a random one kept in ``var/secret_key`` (the file ``make run``
uses), in ``test`` a random one for the process. The start-up log says which.
"""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'events.sqlite3'}"
DEV_SECRET_KEY_FILE = PROJECT_ROOT / "var" / "secret_key"
_PROCESS_SECRET_KEY = secrets.token_urlsafe(48)
"""Signs tokens in ``test`` (and in ``dev`` when ``var/secret_key`` cannot be written)
when ``EVENTS_SECRET_KEY`` is unset: nobody outside this process knows it."""


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable configuration."""


class Settings(BaseSettings):
    """Every setting of the platform. Environment variables are ``EVENTS_`` + the field name."""

    model_config = SettingsConfigDict(env_prefix="EVENTS_", extra="ignore")

    env: Literal["dev", "test", "production"] = "production"
    """Where this runs. ``dev`` and ``test`` allow an unset secret key."""

    database_url: str = DEFAULT_SQLITE_URL
    """SQLAlchemy URL: ``postgresql+asyncpg://...`` in production, SQLite file by default."""

    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_echo: bool = False
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """How long a request waits for a free database connection (or to connect) before it
    is answered 503 ``database_unavailable`` with ``Retry-After``."""

    secret_key: SecretStr | None = None
    """Signs login tokens. Required outside dev and test."""

    token_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    """How long a login token lasts (default 12 hours: one race day)."""

    ticket_hold_minutes: int = Field(default=15, ge=1, le=24 * 60)
    """How long an unpaid ticket order holds its capacity."""

    ticket_lock_timeout_ms: int = Field(default=3000, ge=100, le=60_000)
    """How long a purchase waits for the capacity locks before answering 503 (PostgreSQL)."""

    ticket_font_path: Path = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    """A CJK font for PDF tickets (Debian ``fonts-wqy-microhei``; ``make browser``)."""

    ticket_tibetan_font_path: Path = Path(
        "/usr/share/fonts/truetype/tibetan-machine/TibetanMachineUni.ttf"
    )
    """A font that shapes Tibetan script, for Tibetan names on PDF tickets (Debian
    ``fonts-tibetan-machine``; ``make browser``). Without it those lines are left out."""

    smtp_host: str | None = None
    """Mail server for ticket confirmations; unset: no mail is sent."""

    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    smtp_from: str = "tickets@localhost"
    """The sender of confirmation messages."""

    redis_url: str | None = None
    """Redis (``redis://127.0.0.1:6379/0``) for what every worker and process shares: live
    results (history and push) and login failure counts. Unset: kept in each worker's
    memory, which serves one worker (``make run``)."""

    jobs_worker: bool = True
    """Run background jobs (mail) inside each ``events serve`` process. With Redis, set it
    false on web processes when ``events worker`` runs the jobs apart."""

    jobs_sweep_seconds: float = Field(default=60.0, ge=0.01, le=3600)
    """How often the outboxes are swept for what is due (jobs lost or backing off)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)

    debug: bool = False
    log_level: str = "INFO"
    log_requests: bool = True
    """One log line per request (method, path, status, time; never the query string)."""

    max_request_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    """Larger bodies are refused with 413 before they are parsed."""

    public_base_url: str | None = None
    """Where people reach the app (``https://tickets.example``), for links in answers, pages,
    mail and checkout return addresses. Unset: the address each request came to (outside a
    request: ``http://EVENTS_HOST:EVENTS_PORT``); see ``events.links``."""

    stripe_payment_method_types: list[str] = Field(
        default_factory=lambda: ["card", "alipay", "wechat_pay"]
    )
    """What Stripe Checkout offers (``EVENTS_STRIPE_PAYMENT_METHOD_TYPES='["card"]'``):
    cards, Alipay and WeChat Pay by default (all take CNY); each must be enabled in the
    Stripe dashboard."""

    bench_endpoints: bool = False
    """Serve ``POST /bench/touch`` (a bare one-row UPDATE) as `make bench`'s baseline."""

    stripe_secret_key: SecretStr | None = None
    """Stripe API key (``sk_live_...`` / ``sk_test_...``). Set: payments go through Stripe
    and the test provider is off."""

    stripe_webhook_secret: SecretStr | None = None
    """The signing secret (``whsec_...``) of the Stripe webhook endpoint."""

    stripe_api_base: str | None = None
    """Another address for the Stripe API (a local fake in tests or load runs)."""

    stripe_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    """Older signed webhooks are refused (Stripe's default tolerance)."""

    stripe_max_network_retries: int = Field(default=2, ge=0, le=5)
    stripe_timeout_seconds: float = Field(default=30.0, gt=0, le=120)
    stripe_checkout_locale: str = "auto"
    """Language of Stripe's hosted checkout page (``auto``, ``zh``, ``en``, ...)."""

    payment_checkout_minutes: int = Field(default=30, ge=30, le=24 * 60)
    """How long a checkout stays open (Stripe allows 30 minutes to 24 hours)."""

    payments_test_provider: bool | None = None
    """The fake 'test' provider (pay with one click, for demos). Never on when Stripe is
    configured; by default on only in dev and test."""

    redis_prefix: str = "events"
    """Prefix of every Redis key and channel (several deployments can share one Redis)."""

    live_history: int = Field(default=500, ge=10, le=100_000)
    """Changes kept per festival for streams resuming with ``Last-Event-ID``."""

    checkin_batch_wait_ms: float = Field(default=1.5, ge=0, le=20)
    """How long a worker holds a gate scan for others to share its database round trip
    (PostgreSQL; ``checkin.batch``). 0 sends each scan alone."""

    checkin_batch_max: int = Field(default=64, ge=1, le=1000)
    """The most scans decided in one statement."""

    live_max_streams: int = Field(default=20_000, ge=1, le=1_000_000)
    """Live results streams one worker holds; more get 503 with ``Retry-After``."""

    live_stream_backlog: int = Field(default=64, ge=1, le=10_000)
    """Events queued for one stream; a client further behind is dropped and resumes."""

    @property
    def stripe_enabled(self) -> bool:
        key = self.stripe_secret_key
        return key is not None and bool(key.get_secret_value())

    @property
    def test_payments_enabled(self) -> bool:
        if self.stripe_enabled:
            return False
        if self.payments_test_provider is None:
            return self.env in ("dev", "test")
        return self.payments_test_provider

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def signing_key(self) -> str:
        """The key that signs login tokens; refuses to invent one in production."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        if self.env == "dev":
            return _dev_secret_key()[0]
        if self.env == "test":
            return _PROCESS_SECRET_KEY
        raise ConfigurationError(
            "EVENTS_SECRET_KEY is required when EVENTS_ENV is 'production'. "
            "Set it to a long random string (for example: python -c "
            "'import secrets; print(secrets.token_urlsafe(48))')."
        )

    def signing_key_source(self) -> str | None:
        """Where an unset ``EVENTS_SECRET_KEY`` came from (None when it is set)."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return None
        if self.env == "dev":
            return _dev_secret_key()[1]
        return "a random key for this process only (tokens die with it)"


@lru_cache(maxsize=1)
def _dev_secret_key() -> tuple[str, str]:
    """This checkout's own random key in ``var/secret_key`` (created 0600), so tokens and
    sealed ticket keys survive a restart; the process's key when the file cannot be kept."""
    try:
        if DEV_SECRET_KEY_FILE.exists():
            key = DEV_SECRET_KEY_FILE.read_text().strip()
        else:
            DEV_SECRET_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            DEV_SECRET_KEY_FILE.touch(mode=0o600)
            DEV_SECRET_KEY_FILE.write_text(key + "\n")
        if len(key) >= 32:
            return key, f"the random key in {DEV_SECRET_KEY_FILE}"
    except OSError:
        pass
    return _PROCESS_SECRET_KEY, "a random key for this process only (tokens die with it)"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The one settings object of this process."""
    return Settings()

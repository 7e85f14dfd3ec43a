"""No known signing key: an unset EVENTS_SECRET_KEY is random, production refuses."""

import uuid
from pathlib import Path

import pytest

from events import config
from events.access.security import decode_access_token, issue_access_token
from events.app import create_app
from events.config import ConfigurationError, Settings
from tests.conftest import Client, captured_logs, serve

# The constant every checkout used to share: anyone could sign an organiser token with it.
OLD_PUBLIC_KEY = "dev-only-secret-key-never-use-in-production-0000"


async def test_a_token_signed_with_the_old_public_key_is_refused(client: Client) -> None:
    token, _ = issue_access_token(
        user_id=uuid.uuid4(), role="organiser", key=OLD_PUBLIC_KEY, ttl_seconds=600
    )
    response = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_test_env_signs_with_a_random_key_kept_for_the_process() -> None:
    key = Settings(env="test").signing_key()
    assert key == Settings(env="test").signing_key()
    assert key != OLD_PUBLIC_KEY
    assert len(key) >= 48
    assert Settings(env="test").signing_key_source() is not None
    assert Settings(env="test", secret_key="x" * 40).signing_key_source() is None


def test_dev_env_keeps_its_random_key_in_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "var" / "secret_key"
    monkeypatch.setattr(config, "DEV_SECRET_KEY_FILE", key_file)
    config._dev_secret_key.cache_clear()
    try:
        key = Settings(env="dev").signing_key()
        assert key_file.read_text().strip() == key
        assert key_file.stat().st_mode & 0o077 == 0
        config._dev_secret_key.cache_clear()
        assert Settings(env="dev").signing_key() == key  # a restart signs the same way
        assert str(key_file) in (Settings(env="dev").signing_key_source() or "")
    finally:
        config._dev_secret_key.cache_clear()
    token, _ = issue_access_token(user_id=uuid.uuid4(), role="owner", key=key, ttl_seconds=60)
    assert decode_access_token(token, key=key).role == "owner"


def test_production_refuses_to_start_without_a_key() -> None:
    with pytest.raises(ConfigurationError, match="EVENTS_SECRET_KEY"):
        create_app(Settings(env="production", database_url="sqlite+aiosqlite:///:memory:"))


async def test_start_up_says_the_key_is_made_up(settings: Settings) -> None:
    app = create_app(settings)
    with captured_logs("events.config") as records:
        async with serve(app):
            pass
    text = "\n".join(r.getMessage() for r in records)
    assert "EVENTS_SECRET_KEY is unset" in text
    assert "random key for this process" in text

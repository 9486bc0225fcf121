"""Settings: secrets from files, the environment first, and URLs safe to print."""

import pytest

from aetheredge.settings import Settings
from aetheredge.settings.sources import redacted


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://edge:s3cr%40t@postgres:5432/x", "postgresql://edge:***@postgres:5432/x"),
        ("redis://:pw@redis:6379/0", "redis://:***@redis:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("postgresql://edge@db/x", "postgresql://edge@db/x"),
    ],
)
def test_printed_urls_never_carry_the_password(url, shown):
    assert redacted(url) == shown


def test_secret_files_set_settings_and_the_environment_wins(tmp_path, monkeypatch):
    (tmp_path / "AETHER_DATABASE_URL").write_text("postgresql://edge:pw@from-file/x")
    (tmp_path / "AETHER_REDIS_URL").write_text("redis://:pw@from-file:6379/0")
    monkeypatch.setenv("AETHER_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("AETHER_REDIS_URL", "redis://from-env:6379/0")
    settings = Settings()
    assert settings.database_url == "postgresql://edge:pw@from-file/x"
    assert settings.redis_url == "redis://from-env:6379/0"
    env = settings.child_env()
    assert "AETHER_DATABASE_URL" not in env  # a child reads the same file
    assert env["AETHER_REDIS_URL"] == "redis://from-env:6379/0"


def test_a_missing_secrets_folder_is_no_error(tmp_path, monkeypatch):
    monkeypatch.setenv("AETHER_SECRETS_DIR", str(tmp_path / "absent"))
    assert Settings().database_url == Settings.model_fields["database_url"].default

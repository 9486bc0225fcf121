"""Where settings come from besides the environment: secret files, and how a secret-bearing
URL is shown."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic_settings import BaseSettings, EnvSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

DEFAULT_SECRETS_DIR = "/var/run/secrets/aetheredge"


def redacted(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: safe for a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))


def secrets_dir() -> Path:
    """Where secret files (one per ``AETHER_*`` variable) are read from, when it exists."""
    return Path(os.environ.get("AETHER_SECRETS_DIR", DEFAULT_SECRETS_DIR))


class EnvironSource(EnvSettingsSource):
    """pydantic-settings' environment source reading ``environ`` instead of this
    process's environment: the same prefix, decoding and JSON parsing of complex fields."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self.environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self.environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )

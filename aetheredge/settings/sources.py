"""Where settings come from besides the environment: secret files, and how a secret-bearing
URL is shown."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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

"""Ingest: how much one request may carry."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IngestSettings(BaseModel):
    """Ingest request limits."""

    ingest_max_rows: int = Field(default=1_000_000, ge=1, description="Rows per ingest request.")
    ingest_max_body_bytes: int = Field(
        default=128 * 1024**2, ge=1024, description="Larger ingest bodies get 413."
    )

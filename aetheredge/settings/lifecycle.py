"""The model lifecycle: scheduled retraining, the retraining policy, drift checks."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class LifecycleSettings(BaseModel):
    """Scheduled retraining, the retraining policy, drift checks and short-lived jobs."""

    metrics_linger_s: float = Field(
        default=12.0,
        ge=0.0,
        description="How long a short-lived job (drift check, retraining) stays up after "
        "setting its metrics, so that Ray's agent exports them (it does every ~10 s).",
    )
    retrain_schedule: str = Field(
        default="0 3 * * *",
        description="Cron expression (UTC) for scheduled retraining of every model.",
    )
    drift_schedule: str = Field(
        default="*/30 * * * *",
        description="Cron expression (UTC) for the drift check of every model.",
    )
    retrain_source: str = Field(
        default="postgres",
        description="Where scheduled and drift-triggered retraining reads: 'postgres' (the "
        "last retrain_days), 'synthetic' or a Parquet path.",
    )
    retrain_days: float = Field(default=7.0, gt=0, description="Days of data a retrain reads.")
    retrain_rows: int = Field(default=200_000, ge=100, description="Rows a retrain reads.")
    drift_psi_threshold: float = Field(
        default=0.2, gt=0, description="PSI above which a feature (or the scores) has drifted."
    )
    drift_window_hours: float = Field(
        default=24.0, gt=0, description="The recent window the drift job compares."
    )
    drift_min_rows: int = Field(
        default=500, ge=1, description="Fewer rows in the window than this: no drift verdict."
    )
    drift_max_rows: int = Field(
        default=200_000, ge=1, description="Most recent rows the drift job reads per window."
    )

    @field_validator("retrain_schedule", "drift_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value

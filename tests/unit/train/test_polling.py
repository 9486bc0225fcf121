"""Ray Train's worker polling interval, which only an environment variable sets."""

from __future__ import annotations

import os

from ray.train.v2._internal.constants import get_env_vars_to_propagate

from train.distributed import polling

VAR = "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"


def test_fits_started_inside_the_block_poll_at_the_interval(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    with polling(0.3):
        # What the driver hands Ray Train's controller as it starts a fit.
        assert get_env_vars_to_propagate()[VAR] == "0.3"
    assert VAR not in os.environ
    assert VAR not in get_env_vars_to_propagate()


def test_an_interval_the_user_set_is_kept(monkeypatch):
    monkeypatch.setenv(VAR, "1.5")
    with polling(0.3):
        assert get_env_vars_to_propagate()[VAR] == "1.5"
    assert os.environ[VAR] == "1.5"

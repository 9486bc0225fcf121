"""The schedule: cron expressions validated, tasks launched in due order, none skipped."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from aetheredge.ops.schedule import Task, run, tasks
from aetheredge.settings import Settings


def test_bad_cron_expressions_are_refused():
    with pytest.raises(ValidationError, match="cron"):
        Settings(retrain_schedule="every day")


def test_every_model_is_retrained_and_checked():
    settings = Settings(retrain_schedule="0 3 * * *", drift_schedule="*/30 * * * *")
    assert {t.name for t in tasks(settings)} == {
        "retrain anomaly",
        "retrain cost",
        "drift anomaly",
        "drift cost",
    }
    at = datetime(2026, 11, 26, 2, 50, tzinfo=UTC)
    assert Task("retrain", "cost", "0 3 * * *").next_run(at) == at.replace(minute=0, hour=3)


def test_run_launches_tasks_when_due_in_order():
    settings = Settings(retrain_schedule="0 3 * * *", drift_schedule="*/30 * * * *")
    clock = [datetime(2026, 11, 26, 2, 50, tzinfo=UTC)]
    launched: list[tuple[str, datetime]] = []

    def sleep(seconds: float) -> None:
        clock[0] += timedelta(seconds=seconds)

    count = run(
        settings,
        lambda task: f"submitted {task.name}",
        lambda task, due, outcome: launched.append((outcome, due)),
        runs=6,
        now=lambda: clock[0],
        sleep=sleep,
    )
    three, half_past = clock[0].replace(hour=3, minute=0), clock[0].replace(hour=3, minute=30)
    assert count == 6
    assert [due for _, due in launched] == [three] * 4 + [half_past] * 2
    assert sorted(o for o, due in launched if due == three) == [
        "submitted drift anomaly",
        "submitted drift cost",
        "submitted retrain anomaly",
        "submitted retrain cost",
    ]
    assert {o for o, due in launched if due == half_past} == {
        "submitted drift anomaly",
        "submitted drift cost",
    }

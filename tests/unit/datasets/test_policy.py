"""One retraining policy: the CLI, the schedule, drift and the jobs all read it."""

from datetime import UTC, datetime, timedelta

import pytest

from aetheredge.datasets.policy import RetrainPolicy
from aetheredge.ops.ray_jobs import policy_retrain_command
from aetheredge.settings import Settings
from jobs import drift, retrain
from jobs.args import chosen


def flags(argv: list[str]) -> dict[str, str]:
    """The ``--flag value`` pairs of a job's argv."""
    args = argv[argv.index("-m") + 2 :]
    return dict(zip(args[::2], args[1::2], strict=True))


def test_by_default_a_retrain_reads_the_settings_window_of_postgres():
    settings = Settings(retrain_days=3, retrain_rows=50_000)
    before = datetime.now(UTC) - timedelta(days=3)
    found = flags(policy_retrain_command(settings, "cost"))
    assert found["--model"] == "cost" and found["--source"] == "postgres"
    assert found["--rows"] == "50000"
    since = datetime.fromisoformat(found["--since"])
    assert before <= since <= datetime.now(UTC) - timedelta(days=3)


def test_arguments_override_the_policy_and_the_window_ends_where_asked():
    settings = Settings(retrain_days=2)
    found = flags(
        policy_retrain_command(settings, "anomaly", {"until": "2026-11-20T00:00:00+00:00"})
    )
    assert found["--since"] == "2026-11-18T00:00:00+00:00"
    found = flags(policy_retrain_command(settings, "anomaly", {"source": "synthetic", "rows": 9}))
    assert (found["--source"], found["--rows"]) == ("synthetic", "9") and "--since" not in found


def test_the_jobs_leave_what_they_read_to_the_policy():
    args = retrain.parse_args(["--model", "all"])
    assert (args.source, args.rows, args.since, args.until) == (None, None, None, None)
    assert chosen(args.model) == ("anomaly", "cost")
    checks = drift.parse_args(["--model", "all", "--retrain-here"])
    assert checks.retrain_here and checks.retrain_rows is None


def test_a_policy_window_counts_back_from_its_end():
    policy = RetrainPolicy.of(Settings(retrain_days=7))
    end = datetime(2026, 12, 1, tzinfo=UTC)
    window = policy.window(until=end)
    assert (window.since, window.until) == (end - timedelta(days=7), end)
    start = datetime(2026, 11, 30, tzinfo=UTC)
    assert policy.window(start, end).since == start


@pytest.mark.parametrize("module", [retrain, drift])
def test_a_model_that_does_not_exist_is_a_usage_error(module, capsys):
    with pytest.raises(SystemExit) as exited:
        module.parse_args(["--model", "gpu"])
    assert exited.value.code == 2 and "invalid choice" in capsys.readouterr().err

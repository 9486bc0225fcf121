"""A named run's record: a retry resumes on what the run started on, or is refused."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aetheredge.datasets.policy import Window
from train.runs import Inputs, Run, RunConflictError

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
FIRST = Inputs("postgres", 200_000, 0, {"n_estimators": 20}, 4, Window.last(7, START))


def test_a_retry_takes_the_first_attempts_window_and_workers(tmp_path):
    run = Run(str(tmp_path / "storage"), "nightly-7f2k-anomaly")
    assert run.pin(FIRST) == FIRST
    later = replace(FIRST, workers=2, window=Window.last(7, START + timedelta(minutes=9)))
    assert run.pin(later) == FIRST
    assert (tmp_path / "storage" / "nightly-7f2k-anomaly.aetheredge.json").is_file()


@pytest.mark.parametrize(
    "change",
    [{"rows": 100_000}, {"seed": 1}, {"params": {"n_estimators": 40}}, {"source": "synthetic"}],
)
def test_a_retry_on_other_inputs_is_refused_with_the_runs_name(tmp_path, change):
    run = Run(str(tmp_path), "nightly-7f2k-cost")
    run.pin(FIRST)
    with pytest.raises(RunConflictError, match=r"'nightly-7f2k-cost' started on .*new --run-name"):
        run.pin(replace(FIRST, **change))


def test_a_finished_run_leaves_nothing_and_its_name_starts_a_new_run(tmp_path):
    run = Run(str(tmp_path), "weekly-cost")
    run.pin(FIRST)
    checkpoint = tmp_path / "weekly-cost" / "checkpoint_2026-11-30_02-10-00.000000"
    checkpoint.mkdir(parents=True)
    (checkpoint / "share-0.pkl").write_bytes(b"trees")
    run.finish()
    assert list(tmp_path.iterdir()) == []
    run.finish()  # nothing left to delete
    nextweek = replace(FIRST, window=Window.last(7, START + timedelta(days=7)))
    assert run.pin(nextweek) == nextweek


def test_the_record_keeps_times_and_their_offsets():
    assert Inputs.from_json(FIRST.to_json()) == FIRST
    synthetic = Inputs("synthetic", 20_000, 7, {}, 2)
    assert Inputs.from_json(synthetic.to_json()) == synthetic

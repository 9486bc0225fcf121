"""Fault-injection specs and the checkpoint rounds of distributed training."""

import pytest

from train import faults
from train.distributed import plan_rounds


def test_no_fault_unless_the_variable_is_set(monkeypatch):
    monkeypatch.delenv(faults.ENV, raising=False)
    assert faults.planned() is None
    monkeypatch.setenv(faults.ENV, "kill@1:2")
    assert faults.planned() == faults.Fault("kill", 1, 2)
    monkeypatch.setenv(faults.ENV, "explode@1")
    with pytest.raises(ValueError, match="explode@1"):
        faults.planned()


def test_a_fault_is_due_only_at_its_rank_and_round(monkeypatch):
    slept = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    stall = faults.Fault("stall", 1, 2)
    assert not stall.due(0, 2) and not stall.due(1, 1) and stall.due(1, 2)
    stall.fire()
    assert slept == [3600]


@pytest.mark.parametrize(
    ("sizes", "per_round", "rounds"),
    [([50, 50], 25, 2), ([26, 25], 25, 2), ([10, 10], 1_000_000, 1), ([2, 1], 1, 1), ([7], 3, 3)],
)
def test_every_worker_runs_the_same_rounds_of_at_least_one_tree(sizes, per_round, rounds):
    assert plan_rounds(sizes, per_round) == rounds
    assert rounds <= min(sizes)

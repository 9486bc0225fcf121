"""Serve processes die under steady load: a replica, then the controller."""

import os
import signal
import time

import pytest
import ray
from ray.serve._private.constants import SERVE_CONTROLLER_NAME, SERVE_NAMESPACE

from tests.support.steady import SteadyLoad, anomaly_body, half_capacity

pytestmark = pytest.mark.integration
ERROR_BUDGET = 0.001  # at most one failed request in a thousand across a replica kill
RECOVERY_S = 10  # all the offered load served again within this long after the kill


def test_a_replica_killed_under_load_costs_almost_nothing(stack):
    """Steady load at half the measured capacity (as the soak runs), then one replica of
    two dies: at most 0.1% of requests fail, and all the load is served again within
    10 s. (The replacement itself takes longer to start; the survivor carries the load.)"""
    victim, survivor = stack.wait_for_replicas(2)
    body = anomaly_body(8, seed=31)
    offered = half_capacity(stack.client, "/v1/anomaly/score", body, clients=4)
    with SteadyLoad(stack.client, "/v1/anomaly/score", body, clients=4, rate=offered) as load:
        time.sleep(5)
        killed_at = time.time()
        os.kill(victim["pid"], signal.SIGKILL)  # a crash: no drain, no goodbye
        time.sleep(RECOVERY_S + 5)
    failed = load.failures()
    served = [load.served(killed_at + s, killed_at + s + 1) for s in range(int(RECOVERY_S) + 5)]
    print(
        f"replica kill: {len(failed)}/{len(load.answers)} failed; capacity {2 * offered:.0f} rps, "
        f"offered {offered:.0f}, served per second after: {[round(r) for r in served]}"
    )
    assert len(failed) <= ERROR_BUDGET * len(load.answers), failed[:5]
    assert load.served(killed_at + RECOVERY_S, killed_at + RECOVERY_S + 5) >= 0.95 * offered
    replaced = stack.wait_for_replicas(2, gone=[victim["replica_id"]])
    assert survivor["replica_id"] in {r["replica_id"] for r in replaced}


def test_traffic_flows_while_the_serve_controller_restarts(stack):
    stack.wait_for_replicas(2)
    controller = ray.get_actor(SERVE_CONTROLLER_NAME, namespace=SERVE_NAMESPACE)
    with SteadyLoad(stack.client, "/v1/anomaly/score", anomaly_body(8, seed=32), clients=2) as load:
        time.sleep(3)
        killed_at = time.time()
        ray.kill(controller, no_restart=False)  # Serve restarts its controller
        back = stack.wait_for_replicas(2)  # answers again: the new controller knows them
        back_at = time.time()
        time.sleep(3)
    print(f"controller kill: back after {back_at - killed_at:.1f}s, {len(load.answers)} requests")
    assert load.failures() == [], load.failures()[:5]
    assert load.served(killed_at, back_at) > 0  # served while no controller ran
    assert len(back) == 2

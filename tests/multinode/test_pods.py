"""The harness's nodes behave like pods: their own address, a private disk, TCP only."""

from pathlib import Path

from aetheredge.ops.nodes.pod import HOME


def test_every_node_joins_ray_from_its_own_address(nodes):
    addresses = {pod.address for pod in nodes.pods.values()}
    assert len(addresses) == 3
    assert nodes.alive_nodes() == addresses


def test_a_node_reaches_only_its_subnet(nodes):
    routes = nodes.pods["worker-1"].exec(["ip", "-4", "route"]).splitlines()
    assert routes == [
        f"{nodes.network.subnet} dev eth0 proto kernel scope link src "
        f"{nodes.pods['worker-1'].address} "
    ]


def test_what_a_node_writes_under_its_home_no_other_node_reads(nodes):
    mark = f"{HOME}/written-by-worker-1"
    nodes.pods["worker-1"].exec(["sh", "-c", f"echo private > {mark}"])
    assert nodes.pods["worker-1"].exec(["cat", mark]) == "private\n"
    for name in ("head", "worker-2"):
        assert nodes.pods[name].exec(["ls", HOME]).split().count("written-by-worker-1") == 0
    assert not Path(mark).exists()  # nor does the machine see it where the pods do
    assert nodes.pods["worker-1"].path(mark).read_text() == "private\n"  # its own disk


def test_the_training_volume_is_the_one_thing_the_nodes_share(nodes):
    shared = nodes.train_storage / "from-worker-2"
    nodes.pods["worker-2"].exec(["sh", "-c", f"echo shared > {shared}"])
    assert nodes.pods["head"].exec(["cat", str(shared)]) == "shared\n"

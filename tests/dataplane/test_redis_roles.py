"""The two Redis servers of the manifests, run with the arguments the manifests give
them: the features' Redis evicts only keys that expire, the GCS's never evicts."""

import contextlib
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from aetheredge.ops.cluster import free_port
from aetheredge.ops.kubernetes.manifests import KUBERAY, render
from aetheredge.ops.nodes.services import REDIS_MAXMEMORY, REDIS_POLICIES
from tests.support.k8s import skip_without_kubectl

CEILING = "2mb"  # the manifests' policy at a ceiling a test fills in a second
CONTAINER_LIMIT_MIB = 1024


def _arguments(name: str) -> list[str]:
    """redis-server's arguments in the production StatefulSet ``name``."""
    skip_without_kubectl()
    objects = render(KUBERAY / "overlays" / "production")
    (server,) = [o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == name]
    (container,) = server["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["memory"] == f"{CONTAINER_LIMIT_MIB // 1024}Gi"
    (script,) = container["args"]
    return shlex.split(script.split("exec redis-server /conf/redis.conf", 1)[1])


@contextlib.contextmanager
def _redis(arguments: list[str], tmp_path: Path) -> Iterator[redis.Redis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt install redis-server)")
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert int(given["--maxmemory"].removesuffix("mb")) <= CONTAINER_LIMIT_MIB * 3 // 4
    given |= {"--dir": str(tmp_path), "--maxmemory": CEILING}
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--logfile", str(tmp_path / "redis.log")]
    proc = subprocess.Popen([*argv, *(x for kv in given.items() for x in kv)])
    client = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                break
            assert time.monotonic() < deadline and proc.poll() is None, "redis did not start"
            time.sleep(0.05)
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def test_the_features_redis_evicts_what_expires_and_keeps_the_spill(tmp_path):
    with _redis(_arguments("redis"), tmp_path) as client:
        for _ in range(50):
            client.xadd("spill", {"batch": b"x" * 1024})  # no TTL: accepted data
        for i in range(5000):  # baselines and rate-limit buckets: 5 MB of expiring keys
            client.set(f"baseline:{i}", b"z" * 1024, ex=3600)
        assert client.info("stats")["evicted_keys"] > 0
        assert client.xlen("spill") == 50


def test_the_gcs_redis_refuses_writes_rather_than_evict(tmp_path):
    with _redis(_arguments("redis-gcs"), tmp_path) as client:
        written = 0
        with pytest.raises(redis.exceptions.OutOfMemoryError, match="maxmemory"):
            for i in range(5000):
                client.set(f"gcs:{i}", b"z" * 1024)
                written += 1
        assert 0 < written < 5000
        assert client.dbsize() == written
        assert client.info("stats")["evicted_keys"] == 0


def test_the_multi_node_harness_runs_each_redis_as_the_manifests_do():
    for name, policy in REDIS_POLICIES.items():
        given = dict(zip(_arguments(name)[::2], _arguments(name)[1::2], strict=True))
        assert given["--maxmemory-policy"] == policy
        assert given["--maxmemory"] == REDIS_MAXMEMORY

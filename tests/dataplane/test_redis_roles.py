"""The two Redis servers of the manifests, run with the arguments the manifests give
them: the features' Redis evicts only keys that expire, the GCS's never evicts, and
each one's redis_exporter sidecar reports the fill the alerts read."""

import contextlib
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from aetheredge.ops.cluster import free_port
from aetheredge.ops.kubernetes.manifests import KUBERAY, render
from aetheredge.ops.nodes.services import REDIS_MAXMEMORY, REDIS_POLICIES
from tests.support.k8s import skip_without_kubectl

CEILING = "2mb"  # the manifests' policy at a ceiling a test fills in a second
CONTAINER_LIMIT_MIB = 1024
PASSWORD = 'pa"ss\\ word'  # what a JSON file and a config line must carry


def _pod(name: str) -> dict:
    """The pod template of the production StatefulSet ``name``."""
    skip_without_kubectl()
    objects = render(KUBERAY / "overlays" / "production")
    (server,) = [o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == name]
    return server["spec"]["template"]["spec"]


def _container(name: str, container: str) -> dict:
    (found,) = [c for c in _pod(name)["containers"] if c["name"] == container]
    return found


def _arguments(name: str) -> list[str]:
    """redis-server's arguments in the production StatefulSet ``name``, after its config
    file."""
    server = _container(name, "redis")
    assert server["resources"]["limits"]["memory"] == f"{CONTAINER_LIMIT_MIB // 1024}Gi"
    binary, config, *arguments = server["args"]
    assert (binary, config) == ("redis-server", "/conf/redis.conf")
    return arguments


@dataclass
class RedisPod:
    """One Redis StatefulSet's pod on this machine: the init container's script wrote
    the config files into ``conf``; the server listens on ``port``."""

    client: redis.Redis
    port: int
    conf: Path


@contextlib.contextmanager
def _redis(name: str, tmp_path: Path) -> Iterator[RedisPod]:
    """StatefulSet ``name``'s pod: its init container's script (on a password with a
    quote, a backslash and a space), then redis-server with the manifest's arguments, at a
    ceiling a test fills in a second."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt install redis-server)")
    port, conf, secrets = free_port(), tmp_path / "conf", tmp_path / "secrets"
    conf.mkdir(parents=True)
    secrets.mkdir()
    (secrets / "redis-password").write_text(PASSWORD)
    (init,) = _pod(name)["initContainers"]
    script = init["args"][0].replace("/var/run/secrets/aetheredge", str(secrets))
    script = script.replace("/conf/", f"{conf}/").replace("localhost:6379", f"localhost:{port}")
    subprocess.run(["/bin/sh", "-c", script], check=True, timeout=10)
    arguments = _arguments(name)
    given = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert int(given["--maxmemory"].removesuffix("mb")) <= CONTAINER_LIMIT_MIB * 3 // 4
    given |= {"--dir": str(tmp_path), "--maxmemory": CEILING}
    argv = [binary, str(conf / "redis.conf"), "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--save", "", "--logfile", str(tmp_path / "redis.log")]
    proc = subprocess.Popen([*argv, *(x for kv in given.items() for x in kv)])
    client = redis.Redis(port=port, password=PASSWORD)
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                client.ping()
                break
            assert time.monotonic() < deadline and proc.poll() is None, "redis did not start"
            time.sleep(0.05)
        yield RedisPod(client, port, conf)
    finally:
        client.close()
        _stop(proc)


@contextlib.contextmanager
def _exporter(name: str, pod: RedisPod) -> Iterator[str]:
    """StatefulSet ``name``'s redis_exporter sidecar, with the manifest's arguments, on
    the pod's Redis and the password file its init container wrote; its metrics URL."""
    binary = shutil.which("prometheus-redis-exporter") or shutil.which("redis_exporter")
    if binary is None:
        pytest.skip("redis_exporter is not installed (apt install prometheus-redis-exporter)")
    listen = f"127.0.0.1:{free_port()}"
    arguments = [
        a.replace("localhost:6379", f"localhost:{pod.port}").replace("/conf/", f"{pod.conf}/")
        for a in _container(name, "exporter")["args"]
    ]
    proc = subprocess.Popen([binary, *arguments, f"--web.listen-address={listen}"])
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{listen}/health", timeout=1).is_success:
                    break
            assert time.monotonic() < deadline and proc.poll() is None, "exporter did not start"
            time.sleep(0.1)
        yield f"http://{listen}/metrics"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _scrape(url: str) -> dict[str, float]:
    text = httpx.get(url, timeout=5).text
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


def _alert(name: str) -> str:
    skip_without_kubectl()
    objects = render(KUBERAY / "overlays" / "production")
    (rules,) = [o for o in objects if o["kind"] == "PrometheusRule"]
    (rule,) = [r for g in rules["spec"]["groups"] for r in g["rules"] if r.get("alert") == name]
    return rule["expr"]


def _reads(expr: str) -> set[str]:
    """The exporter's metrics an alert's expression reads."""
    return set(re.findall(r"\b(redis_[a-z_]+)\{", expr))


def test_the_features_redis_evicts_what_expires_and_keeps_the_spill(tmp_path):
    with _redis("redis", tmp_path) as pod:
        client = pod.client
        for _ in range(50):
            client.xadd("spill", {"batch": b"x" * 1024})  # no TTL: accepted data
        for i in range(5000):  # baselines and rate-limit buckets: 5 MB of expiring keys
            client.set(f"baseline:{i}", b"z" * 1024, ex=3600)
        assert client.info("stats")["evicted_keys"] > 0
        assert client.xlen("spill") == 50


def test_the_gcs_redis_refuses_writes_rather_than_evict(tmp_path):
    with _redis("redis-gcs", tmp_path) as pod:
        client = pod.client
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
        arguments = _arguments(name)
        given = dict(zip(arguments[::2], arguments[1::2], strict=True))
        assert given["--maxmemory-policy"] == policy
        assert given["--maxmemory"] == REDIS_MAXMEMORY


def test_the_exporters_report_what_the_fill_alerts_read(tmp_path):
    """Each sidecar, run as the manifest gives it, logs in with the password file the
    init container wrote and reports the metrics the alerts read: a full GCS Redis is
    above the alert's 80%, and the features' Redis counts its evictions."""
    gcs, evicting = (
        _alert("AetherEdgeGcsRedisNearlyFull"),
        _alert("AetherEdgeFeaturesRedisEvicting"),
    )
    assert "0.8" in gcs and "increase(redis_evicted_keys_total" in evicting
    with _redis("redis-gcs", tmp_path / "gcs") as pod, _exporter("redis-gcs", pod) as url:
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            for i in range(5000):
                pod.client.set(f"gcs:{i}", b"z" * 1024)
        found = _scrape(url)
        assert found["redis_up"] == 1 and _reads(gcs) <= set(found)
        assert found["redis_memory_used_bytes"] / found["redis_memory_max_bytes"] > 0.8
    with _redis("redis", tmp_path / "features") as pod, _exporter("redis", pod) as url:
        for i in range(5000):
            pod.client.set(f"baseline:{i}", b"z" * 1024, ex=3600)
        found = _scrape(url)
        assert found["redis_up"] == 1 and _reads(evicting) <= set(found)
        assert found["redis_evicted_keys_total"] > 0

"""A private network of hosts on one machine: network namespaces joined by a bridge.

Each host is a network namespace with one veth link to a bridge this module creates. The
bridge holds the first address of the subnet: the shared services (PostgreSQL, the two
Redis, MLflow) listen there, as a cluster's Services do. The hosts get no default route,
so from inside one only the subnet answers, the bridge and the other hosts: nothing on
the machine's own networks, and no address outside it, can be reached by mistake.

Every name carries the network's id (six hex digits), so two harnesses never collide,
and :meth:`Network.remove` deletes what the id names, also after a crash of the process
that created it (``aetheredge down``, or the next run, finds it from the saved state).
The subnet is a /24 of 10.251.0.0/16 that no route or address of the machine overlaps.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field

POOL = ipaddress.ip_network("10.251.0.0/16")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run iproute2's ``ip``; a failure raises with ip's own message."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def _taken() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the machine routes or holds an address in."""
    nets = []
    for route in json.loads(ip("-j", "-4", "route", "show", "table", "all").stdout or "[]"):
        dst = route.get("dst", "default")
        if dst != "default" and "." in dst:
            nets.append(ipaddress.ip_network(dst, strict=False))
    for link in json.loads(ip("-j", "-4", "addr").stdout or "[]"):
        for addr in link.get("addr_info", []):
            nets.append(ipaddress.ip_network(f"{addr['local']}/{addr['prefixlen']}", strict=False))
    return nets


def _free_subnet() -> ipaddress.IPv4Network:
    taken = _taken()
    candidates = list(POOL.subnets(new_prefix=24))
    start = secrets.randbelow(len(candidates))
    for subnet in candidates[start:] + candidates[:start]:
        if not any(subnet.overlaps(net) for net in taken):
            return subnet
    raise RuntimeError(f"no free /24 left in {POOL}")


def namespace_pids(namespace: str) -> list[int]:
    """The processes whose network namespace is ``namespace``."""
    done = ip("netns", "pids", namespace, check=False)
    return [int(pid) for pid in done.stdout.split()] if done.returncode == 0 else []


def kill_namespace(namespace: str, timeout_s: float = 10.0) -> int:
    """SIGKILL every process in ``namespace`` until none is left; how many were killed."""
    killed: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while pids := namespace_pids(namespace):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        if time.monotonic() > deadline:
            raise TimeoutError(f"processes of {namespace} survive SIGKILL: {pids}")
        time.sleep(0.05)
    return len(killed)


@dataclass
class Network:
    """The bridge and the hosts' namespaces; see the module docstring."""

    id: str
    subnet: str
    hosts: list[str] = field(default_factory=list)

    @classmethod
    def create(cls) -> Network:
        network = cls(id=secrets.token_hex(3), subnet=str(_free_subnet()))
        try:
            ip("link", "add", network.bridge, "type", "bridge")
            ip("addr", "add", f"{network.gateway}/24", "dev", network.bridge)
            ip("link", "set", network.bridge, "up")
        except BaseException:
            network.remove()
            raise
        return network

    @property
    def bridge(self) -> str:
        return f"aeb{self.id}"

    @property
    def gateway(self) -> str:
        """The bridge's address, where the shared services listen."""
        return str(ipaddress.ip_network(self.subnet)[1])

    def namespace(self, host: str) -> str:
        return f"aetheredge-{self.id}-{host}"

    def address(self, host: str) -> str:
        return str(ipaddress.ip_network(self.subnet)[2 + self.hosts.index(host)])

    def add_host(self, host: str) -> str:
        """Create ``host``'s namespace, linked to the bridge; its address."""
        self.hosts.append(host)
        namespace, index = self.namespace(host), self.hosts.index(host)
        outside = f"aev{self.id}{index}"
        ip("netns", "add", namespace)
        ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        ip("link", "set", outside, "master", self.bridge, "up")
        ip("-n", namespace, "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")
        ip("-n", namespace, "link", "set", "lo", "up")
        return self.address(host)

    def remove(self) -> None:
        """Kill every process in the hosts' namespaces, delete them (their veth links go
        with them) and the bridge. Whatever is already gone is skipped."""
        for host in self.hosts:
            namespace = self.namespace(host)
            if ip("netns", "pids", namespace, check=False).returncode == 0:
                kill_namespace(namespace)
                ip("netns", "del", namespace)
        if ip("link", "show", self.bridge, check=False).returncode == 0:
            ip("link", "del", self.bridge)

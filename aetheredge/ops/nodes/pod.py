"""A pod on one machine: a network namespace plus a mount namespace with a private disk.

As in Kubernetes, a pause process holds the pod's namespaces, and every process of the
pod joins them (``nsenter``). In its mount namespace:

- ``/tmp`` is the pod's own directory (``<disk>/tmp`` on the machine), so a path under
  it, ``AETHER_HOME`` (:data:`HOME`) and Ray's session directory included, is the same
  string on every pod and a different disk on each: what one pod writes there no other
  reads;
- ``/dev/shm`` is a tmpfs of its own, as a container's is (Ray's object store lives
  there);
- the image (the code, its virtualenv) and the shared volume stay as the machine has
  them: where such a path lies under ``/tmp``, it is bound back into the private one.

Removing the network (:meth:`~aetheredge.ops.nodes.network.Network.remove`) SIGKILLs
every process in each pod's network namespace, the pause process too.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HOME = "/tmp/aetheredge"  # AETHER_HOME inside every pod: one path, a private disk each
SHM_BYTES = 1024**3
READY = "pod ready"


def _mounts(disk: Path, keep: Sequence[Path]) -> str:
    """The shell commands that give the pause process's mount namespace its layout."""
    lines = [
        "set -eu",
        f"mount -t tmpfs -o size={SHM_BYTES} tmpfs /dev/shm",
        "mount -t tmpfs tmpfs /mnt",  # scratch, seen only by this namespace
        "mkdir /mnt/host-tmp",
        "mount --rbind /tmp /mnt/host-tmp",
        f"mount --bind {shlex.quote(str(disk / 'tmp'))} /tmp",
    ]
    for path in keep:
        if path.is_relative_to("/tmp"):
            inside, before = (
                shlex.quote(str(path)),
                shlex.quote(f"/mnt/host-tmp/{path.relative_to('/tmp')}"),
            )
            lines += [f"mkdir -p {inside}", f"mount --rbind {before} {inside}"]
    lines += [
        "umount -l /mnt/host-tmp",
        "umount -l /mnt",
        f"mkdir -p {HOME}",
        f"echo {shlex.quote(READY)}",
        "exec sleep infinity",
    ]
    return "\n".join(lines)


@dataclass
class Pod:
    """One pod; ``pause`` is the pid of the process that holds its namespaces."""

    name: str
    namespace: str
    address: str
    disk: str
    pause: int

    @classmethod
    def start(
        cls, name: str, namespace: str, address: str, disk: Path, keep: Sequence[Path]
    ) -> Pod:
        """Start the pod's pause process on a fresh ``disk`` and wait for its mounts."""
        shutil.rmtree(disk, ignore_errors=True)
        (disk / "tmp").mkdir(parents=True)
        argv = ["ip", "netns", "exec", namespace, "unshare", "--mount", "--propagation", "private"]
        proc = subprocess.Popen(
            [*argv, "sh", "-c", _mounts(disk, [p.resolve() for p in keep])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != READY:
            proc.kill()
            raise RuntimeError(f"pod {name} did not start: {proc.communicate()[1].strip()}")
        # The pause process lives on in the namespaces; `ip netns exec` replaced itself
        # with unshare, which replaced itself with sh, then sleep: one pid all along.
        return cls(name, namespace, address, str(disk), proc.pid)

    def path(self, inside: str) -> Path:
        """Where the machine sees a path under the pod's private ``/tmp``."""
        return Path(self.disk) / "tmp" / Path(inside).relative_to("/tmp")

    def run(
        self, argv: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside the pod, detached, with its output in ``log`` (a path on
        the machine, outside the pod)."""
        enter = ["nsenter", f"--target={self.pause}", "--net", "--mount", f"--wd={cwd}"]
        with log.open("ab") as out:
            return subprocess.Popen(
                [*enter, "--", *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env),
                start_new_session=True,
            )

    def exec(
        self,
        argv: Sequence[str],
        timeout_s: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Run a short command inside the pod (with ``env`` as its whole environment,
        if given); its stdout."""
        enter = ["nsenter", f"--target={self.pause}", "--net", "--mount", "--"]
        done = subprocess.run(
            [*enter, *argv],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=None if env is None else dict(env),
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} in pod {self.name}: {done.stderr.strip()}")
        return done.stdout

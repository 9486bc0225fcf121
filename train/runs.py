"""A named training run's record, beside its Ray Train directory in the training storage.

A retried job resumes its Ray Train run by name (``--run-name``; on KubeRay, the
RayJob's name), from the checkpoints in ``AETHER_TRAIN_STORAGE``. Resuming is only
right on the data the run started on: restored trees grown on one window next to new
trees grown on another would be a forest neither run would grow. Two inputs move by
themselves between attempts:

- the ``postgres`` window, whose end defaults to now: a KubeRay retry starts minutes
  later, on a new cluster;
- the worker count, which defaults to the cluster's free CPUs, and which a checkpoint's
  shares (one per rank) depend on.

So the first attempt writes what it read (``<run>.aetheredge.json``), and a retry takes
the window and workers from it. It refuses to resume when the source, row count, seed
or forest parameters differ, since the name would then stand for two different fits.
Once the model is registered, the run's directory and record are deleted: the model
lives in MLflow, and a later job under the same name (``kubectl create`` of the same
RayJob next week) starts a new run rather than restoring a finished one.

The storage is a path or a URI (``s3://``, ``gs://``), reached through pyarrow's
filesystems, as Ray Train reaches it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from typing import Any

import pyarrow.fs as pafs

from aetheredge.datasets.policy import Window


class RunConflictError(ValueError):
    """A run name reused for a fit on other inputs than the run started with."""


@dataclass(frozen=True)
class Inputs:
    """What a fit is grown from; ``window`` and ``workers`` as resolved at its start."""

    source: str
    rows: int
    seed: int
    params: dict[str, Any]
    workers: int
    window: Window | None = None

    def to_json(self) -> str:
        fields = asdict(self) | {"window": self.window and self.window.bounds()}
        return json.dumps(fields, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Inputs:
        fields = json.loads(text)
        if bounds := fields.pop("window"):
            fields["window"] = Window.of(bounds)
        return cls(**fields)


def _filesystem(storage: str) -> tuple[pafs.FileSystem, str]:
    if "://" in storage:
        return pafs.FileSystem.from_uri(storage)
    return pafs.LocalFileSystem(), os.path.abspath(storage)


@dataclass(frozen=True)
class Run:
    """The run ``name`` in ``storage`` (``AETHER_TRAIN_STORAGE``)."""

    storage: str
    name: str

    def _paths(self) -> tuple[pafs.FileSystem, str, str]:
        fs, root = _filesystem(self.storage)
        directory = f"{root.rstrip('/')}/{self.name}"
        return fs, directory, f"{directory}.aetheredge.json"

    def pin(self, inputs: Inputs) -> Inputs:
        """The inputs this run grows from: the first attempt's window and workers when
        there was one (``inputs`` otherwise, recorded now). Raises :class:`RunConflictError`
        when the rest of ``inputs`` differs from the first attempt's."""
        fs, _, record = self._paths()
        if fs.get_file_info(record).type == pafs.FileType.File:
            with fs.open_input_stream(record) as stream:
                first = Inputs.from_json(stream.read().decode())
            moved = replace(inputs, window=first.window, workers=first.workers)
            if moved != first:
                raise RunConflictError(
                    f"run {self.name!r} started on {first.to_json()}, not "
                    f"{inputs.to_json()}; a new fit needs a new --run-name"
                )
            return first
        fs.create_dir(record.rsplit("/", 1)[0], recursive=True)
        with fs.open_output_stream(record) as stream:
            stream.write(inputs.to_json().encode())
        return inputs

    def finish(self) -> None:
        """Delete the run's checkpoints and record: its model is registered."""
        fs, directory, record = self._paths()
        if fs.get_file_info(directory).type == pafs.FileType.Directory:
            fs.delete_dir(directory)
        if fs.get_file_info(record).type == pafs.FileType.File:
            fs.delete_file(record)

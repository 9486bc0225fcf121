"""What the Kubernetes manifest tests need from the machine, and a clear skip without it."""

import shutil

import pytest

from aetheredge.ops.kubernetes.crds import crd_directory
from aetheredge.ops.kubernetes.scan import checkov


def skip_without_kubectl() -> None:
    """Skip the calling test module unless `kubectl kustomize` and the KubeRay CRDs exist."""
    if shutil.which("kubectl") is None or not crd_directory().is_dir():
        pytest.skip(
            "needs kubectl (for `kubectl kustomize`) and the KubeRay CRDs at "
            f"{crd_directory()} (AETHER_KUBERAY_CRDS)",
            allow_module_level=True,
        )


def skip_without_checkov() -> None:
    """Skip the calling test unless checkov can run (`make test` builds .venv-checkov)."""
    if checkov() is None:
        pytest.skip("checkov is not installed: `make test` builds .venv-checkov (AETHER_CHECKOV)")

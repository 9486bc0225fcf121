"""Kubernetes manifests checked offline: KubeRay CRD schemas and the operator's own rules."""

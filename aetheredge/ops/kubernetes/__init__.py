"""Kubernetes manifests rendered and checked offline: KubeRay CRD schemas, the operator's own
rules, the Prometheus Operator's schemas, checkov, and the deployment plan."""

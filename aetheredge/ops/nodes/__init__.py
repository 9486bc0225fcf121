"""Multi-node clusters on one machine: network namespaces that behave like pods."""

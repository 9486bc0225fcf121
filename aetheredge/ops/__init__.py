"""Running the platform: the local Ray cluster, the Serve application's deployment, Ray
jobs and their schedule, and the Kubernetes manifests checked offline.
"""

# The AetherEdge image for KubeRay pods (Serve replicas, Ray Train workers, job
# submitters) and the MLflow server: Ray's official Python 3.11 image plus this project.
#   docker build -t ghcr.io/aetheredge/aetheredge:0.1.0 .
FROM rayproject/ray:2.60.0-py311

WORKDIR /home/ray/aetheredge
COPY --chown=1000:100 pyproject.toml README.md ./
COPY --chown=1000:100 aetheredge ./aetheredge
COPY --chown=1000:100 serve ./serve
COPY --chown=1000:100 train ./train
COPY --chown=1000:100 jobs ./jobs
RUN pip install --no-cache-dir . \
    && python -c "import serve.app, jobs.retrain, jobs.drift"

# State (the prediction log's spill file) goes to a mounted volume on Kubernetes.
ENV AETHER_HOME=/var/lib/aetheredge
USER 1000:100

# Dagster as a service, two images from one file (build from the repository root):
#   docker build -f deploy/dagster.Dockerfile --target code-location -t ecom-code-location .
#   docker build -f deploy/dagster.Dockerfile --target dagster -t ecom-dagster .
# `code-location` serves the asset graph over gRPC and runs its runs; `dagster` is the webserver
# (`dagster-webserver ...`) and the daemon (`dagster-daemon run`), which never import the project.
# Both read deploy/dagster.yaml from DAGSTER_HOME; --build-arg COMPUTE_LOGS=azure appends
# deploy/dagster.azure.yaml (compute logs in Azure Blob Storage). Secrets come from the environment.
FROM python:3.11-slim AS base

ARG COMPUTE_LOGS=local
# DAGSTER_EVENT_BATCH_SIZE: a range run's per-partition events (planned, materialised) reach PostgreSQL
# in batches instead of one insert each; Dagster batches only when it is set, in every process that
# stores events (webserver and daemon create runs, the code location runs them).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/home \
    DAGSTER_EVENT_BATCH_SIZE=1000

RUN useradd --create-home --uid 10001 ecom
COPY deploy/dagster.yaml deploy/dagster.azure.yaml /opt/dagster/config/
RUN mkdir -p "$DAGSTER_HOME/storage" \
    && cp /opt/dagster/config/dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && if [ "$COMPUTE_LOGS" = azure ]; then \
        cat /opt/dagster/config/dagster.azure.yaml >> "$DAGSTER_HOME/dagster.yaml"; fi \
    && chown -R ecom "$DAGSTER_HOME"
WORKDIR /opt/dagster/app


# Webserver and daemon: Dagster and its PostgreSQL/Azure integrations at the versions pinned in
# pyproject.toml (read from there, so the pins live in one place), without the project.
FROM base AS dagster
COPY pyproject.toml deploy/service_requirements.py /tmp/build/
RUN python /tmp/build/service_requirements.py /tmp/build/pyproject.toml > /tmp/build/requirements.txt \
    && pip install -r /tmp/build/requirements.txt \
    && rm -rf /tmp/build
COPY deploy/workspace.yaml /opt/dagster/app/workspace.yaml
USER 10001
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/server_info')"]
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "/opt/dagster/app/workspace.yaml"]


# The code location: the project with its pipeline dependencies, served by a Dagster gRPC code server.
FROM base AS code-location
COPY pyproject.toml README.md ./
COPY ecom_assets ./ecom_assets
COPY serving ./serving
# Every version is pinned in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install '.[pipeline,deploy]'
USER 10001
# Compiles the landing-line scanner into the user's numba cache, so that no run compiles it.
RUN python -c "import polars as pl; from ecom_assets.transforms.validation import decode_column; decode_column(pl.Series(['{}']))"
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=10s --start-period=90s \
    CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", \
     "-m", "ecom_assets.definitions", "--location-name", "ecom_assets"]

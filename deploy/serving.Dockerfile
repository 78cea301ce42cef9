# The scoring service alone, without Dagster (build from the repository root):
#   docker build -f deploy/serving.Dockerfile -t ecom-serving .
#   docker run -p 8000:8000 -e ECOM_LAKE_URI=abfss://... ecom-serving
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Each worker scores on one core; scale with WORKERS (one per core), not with OpenMP threads.
    OMP_NUM_THREADS=1 \
    WORKERS=2

# scikit-learn's wheel brings its own OpenMP runtime: no system package needed
RUN useradd --create-home --uid 10001 ecom

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ecom_assets ./ecom_assets
COPY serving ./serving
# Every version is pinned in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install '.[serving]'

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD ["sh", "-c", "exec ecom serve --host 0.0.0.0 --port 8000 --workers \"$WORKERS\""]

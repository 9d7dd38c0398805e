FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VIGIE_ENV=production \
    VIGIE_VAR_DIR=/app/var

WORKDIR /app
RUN groupadd --system --gid 10001 vigie \
    && useradd --system --uid 10001 --gid vigie --home-dir /app vigie

COPY pyproject.toml README.md ./
COPY src ./src
COPY integrations ./integrations
# The project itself, with its pinned lower bounds from pyproject.toml (not a registry name).
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[postgres,redis]" \
    && mkdir -p /app/var \
    && chown vigie:vigie /app/var

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]

# Secrets come from the environment: VIGIE_SECRET_KEY, VIGIE_DATA_KEY, VIGIE_DATABASE_URL.
CMD ["vigie", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]

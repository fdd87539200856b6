# The API and worker image. `docker compose up` runs both against Neo4j and Redis.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY schema ./schema
COPY graph ./graph
COPY resolvers ./resolvers
COPY server ./server
COPY workers ./workers
# /data/media exists, owned by the app user, so that a volume mounted there is writable.
RUN pip install . && useradd --system --uid 10001 apollonia \
  && mkdir -p /data/media && chown -R apollonia /data
USER apollonia

ENV APOLLONIA_HOST=0.0.0.0 APOLLONIA_PORT=8000 APOLLONIA_DATA_DIR=/data LOG_FORMAT=json
EXPOSE 8000
# Ready, not /health: a missing worker degrades /health but the API still serves.
HEALTHCHECK --interval=10s --timeout=5s --retries=6 --start-period=30s \
  CMD python -c "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8000/health/ready', timeout=3).status != 200)"
CMD ["apollonia", "serve"]

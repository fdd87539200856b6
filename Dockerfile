# The API image. `docker compose up` runs it against Neo4j and Redis.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY schema ./schema
COPY graph ./graph
COPY resolvers ./resolvers
COPY server ./server
COPY workers ./workers
RUN pip install . && useradd --system --uid 10001 apollonia
USER apollonia

ENV APOLLONIA_HOST=0.0.0.0 APOLLONIA_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
CMD ["apollonia", "serve"]

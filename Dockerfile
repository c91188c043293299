# merchflow API image: runs against the PostgreSQL named by DATABASE_URL.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY domain ./domain
COPY sql ./sql
# Editable install keeps sql/ next to the package, where the query loader finds it.
RUN pip install -e . && useradd --system --uid 10001 merch
USER merch
EXPOSE 8000
ENV MERCH_HOST=0.0.0.0 MERCH_PORT=8000
CMD ["merch", "serve"]
